"""One typed settings object, read from the environment.

Everything configurable lives here so that the app, the CLI, Alembic and the tests agree on the
database and the basemap without passing strings around.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
DEFAULT_SQLITE = DATA_DIR / "minqing.db"


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; build it with :func:`load_settings`."""

    database_url: str = f"sqlite:///{DEFAULT_SQLITE}"
    basemap: str = "none"  # none | tianditu | gaode | osm | xyz | mbtiles
    basemap_url: str = ""  # for xyz: an intranet template; for mbtiles: a file path
    tianditu_key: str = ""
    display_check_s: float = 60.0  # how often the wall display checks the store for new data
    secret_key: str = ""  # signs sign-in cookies; empty: a key generated once per store
    idle_minutes: int = 30  # a session unused this long is signed out

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read ``MINQING_*`` variables; unset ones fall back to the embedded defaults."""
    env = dict(os.environ if env is None else env)
    return Settings(
        database_url=env.get("MINQING_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE}",
        basemap=(env.get("MINQING_BASEMAP") or "none").lower(),
        basemap_url=env.get("MINQING_BASEMAP_URL", ""),
        tianditu_key=env.get("MINQING_TIANDITU_KEY", ""),
        display_check_s=float(env.get("MINQING_DISPLAY_CHECK_S") or 60),
        secret_key=env.get("MINQING_SECRET_KEY", ""),
        idle_minutes=int(env.get("MINQING_IDLE_MINUTES") or 30),
    )
