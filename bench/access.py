"""Benchmark: what signing in and masking cost a page.

    python bench/access.py [--url URL] [--repeat N]

Measures, on the full demo district (built into a temporary SQLite file unless ``--url`` points
at one):

- ``grid_page_system_ms``: everything the grid page loads for the grid with most households,
  read through a system scope (nothing masked): the baseline, in the same run;
- ``grid_page_masked_ms``: the same through a planner's scope (names, phones, ID numbers,
  addresses masked in the data layer); ``masking_ratio`` is masked / system;
- ``gate_ms``: the sign-in gate app.py runs on every rerun (resume the session token, check for a
  forced password change, name the jurisdiction); ``data_version_ms`` is the one query every
  rerun made before accounts existed, and ``gate_vs_data_version`` their ratio;
- ``sign_in_ms``: one password check (argon2id with argon2-cffi's defaults), paid once per
  sign-in.

Each figure is the median of ``--repeat`` calls after one warm-up call. The last line printed is
one JSON object.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable

from harness import run_on_full_demo  # bench/ is the script's own folder
from sqlalchemy import func, select

from minqing import accounts
from minqing.access import Role
from minqing.drilldown import grid_page
from minqing.models import Household
from minqing.registry import data_version
from minqing.scope import Scope
from minqing.store import get_engine

AS_OF = dt.date(2026, 11, 20)


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def measure(url: str, repeat: int) -> dict[str, float | int]:
    engine = get_engine(url)
    with engine.connect() as conn:
        grid_id = conn.execute(select(Household.grid_id).group_by(Household.grid_id)
                               .order_by(func.count().desc()).limit(1)).scalar()
    name = f"bench-{time.time_ns()}"
    account_id = accounts.create_account(engine, by=Scope.district(), username=name,
                                         name="bench", role=Role.PLANNER,
                                         password="bench-password", must_change_password=False)
    planner = accounts.account_by_id(engine, account_id)
    token = accounts.open_token(engine, account_id)

    def gate() -> None:
        viewer = accounts.resume(engine, token)
        accounts.needs_password_change(engine, viewer.account_id)
        accounts.jurisdiction_label(engine, viewer.level, viewer.jurisdiction_id)

    system = _median_ms(lambda: grid_page(engine, scope=Scope.district(), grid_id=grid_id,
                                          today=AS_OF), repeat)
    masked = _median_ms(lambda: grid_page(engine, scope=planner.scope(), grid_id=grid_id,
                                          today=AS_OF), repeat)
    gate_ms = _median_ms(gate, repeat * 5)
    version_ms = _median_ms(lambda: data_version(engine), repeat * 5)
    sign_in = _median_ms(lambda: accounts.authenticate(engine, name, "bench-password"),
                         max(3, repeat // 5))
    households = len(grid_page(engine, scope=planner.scope(), grid_id=grid_id,
                               today=AS_OF).points)
    return {
        "grid_households": households, "grid_page_system_ms": system,
        "grid_page_masked_ms": masked, "masking_ratio": round(masked / system, 2),
        "gate_ms": gate_ms, "data_version_ms": version_ms,
        "gate_vs_data_version": round(gate_ms / version_ms, 1), "sign_in_ms": sign_in,
    }


def main() -> None:
    run_on_full_demo(measure, description=__doc__.splitlines()[0], repeat=20, as_of=AS_OF)


if __name__ == "__main__":
    main()
