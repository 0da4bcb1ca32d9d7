"""Benchmark: full-scale demo generation time and database size.

    python bench/generate.py [--url URL] [--scale full|small] [--seed N]

Without ``--url`` it builds into a temporary SQLite file and deletes it afterwards. The last line
printed is one JSON object: seconds, households, grids, diary_entries, cases, db_mb. The issue's
bar is full scale in at most 60 s on a 2-core machine; the small build is timed in the same run as
a baseline, so that the ratio can be compared across noisy machines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
from pathlib import Path

from sqlalchemy import text

from minqing.demo import build
from minqing.store import get_engine

AS_OF = dt.date(2026, 11, 20)


def _db_mb(url: str) -> float:
    """Size of the database: the SQLite file (with its WAL), or pg_database_size."""
    engine = get_engine(url)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(url.split("///", 1)[1])
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    else:
        with engine.connect() as conn:
            size = conn.scalar(text("SELECT pg_database_size(current_database())"))
    return round(size / 1e6, 1)


def _run(url: str, scale: str, seed: int) -> dict:
    summary = build(url, scale=scale, seed=seed, as_of=AS_OF, replace=True, progress=True)
    return {**summary, "db_mb": _db_mb(url)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--scale", choices=["full", "small"], default="full")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        baseline = _run(f"sqlite:///{Path(tmp) / 'small.db'}", "small", args.seed)
        url = args.url or f"sqlite:///{Path(tmp) / 'demo.db'}"
        result = _run(url, args.scale, args.seed)
        get_engine(url).dispose()
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps({
        "seconds": result["seconds"],
        "households": result["households"],
        "grids": result["grids"],
        "diary_entries": result["diary_entries"],
        "cases": result["cases"],
        "db_mb": result["db_mb"],
        "baseline_small_seconds": baseline["seconds"],
        "ratio_to_small": round(result["seconds"] / baseline["seconds"], 1),
        "limit_seconds": 60,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
