"""Benchmark: the open-case backlog and a grid page's data load, against pandas.

    python bench/backlog.py [--url URL] [--repeat N]

Measures, on the full demo district (built into a temporary SQLite file unless ``--url`` points
at one):

- ``town_backlog_ms``: open cases with deadline flags for the town with the most open cases;
- ``grid_backlog_ms``: the same for the grid with the most open cases;
- ``grid_page_ms``: everything the grid page loads for that grid (:func:`minqing.drilldown.grid_page`);
- ``pandas_town_ms``: the baseline, run in the same process: read every case into pandas, then
  filter to the town's open cases and flag the overdue ones;
- ``speedup_vs_pandas``: ``pandas_town_ms / town_backlog_ms``.

Each figure is the median of ``--repeat`` calls after one warm-up call. The issue's bar is a
backlog of at most 20 ms per call on SQLite. The last line printed is one JSON object.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable

import pandas as pd
from harness import run_on_full_demo  # bench/ is the script's own folder
from sqlalchemy import Engine, func, select

from minqing.casebook import open_cases
from minqing.deadlines import is_overdue
from minqing.drilldown import grid_page
from minqing.models import Case
from minqing.scope import Scope
from minqing.store import get_engine
from minqing.vocab import OPEN_STATUSES

AS_OF = dt.date(2026, 11, 20)
OPEN = [s.value for s in OPEN_STATUSES]


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    call()  # warm-up: statement caches, page cache
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def _busiest(engine: Engine, column) -> int:
    """The town or grid with the most open cases (the worst case for a backlog)."""
    stmt = (select(column, func.count()).where(Case.status.in_(OPEN)).group_by(column)
            .order_by(func.count().desc(), column).limit(1))
    with engine.connect() as conn:
        return conn.execute(stmt).first()[0]


def _pandas_backlog(engine: Engine, town_id: int) -> pd.DataFrame:
    """The naive way: every case into a DataFrame, then filter and flag in memory."""
    with engine.connect() as conn:
        cases = pd.read_sql(select(*Case.__table__.columns), conn)
    backlog = cases[(cases["town_id"] == town_id) & cases["status"].isin(OPEN)].copy()
    backlog["overdue"] = [is_overdue(s, d.date() if hasattr(d, "date") else d, AS_OF)
                          for s, d in zip(backlog["status"], backlog["deadline"], strict=True)]
    return backlog


def measure(url: str, repeat: int) -> dict[str, float | int]:
    engine = get_engine(url)
    town_id, grid_id = _busiest(engine, Case.town_id), _busiest(engine, Case.grid_id)
    district = Scope.district()
    town = _median_ms(lambda: open_cases(engine, scope=Scope.town(town_id), today=AS_OF), repeat)
    grid = _median_ms(lambda: open_cases(engine, scope=district, grid_id=grid_id, today=AS_OF),
                      repeat)
    page = _median_ms(lambda: grid_page(engine, scope=district, grid_id=grid_id, today=AS_OF),
                      repeat)
    baseline = _median_ms(lambda: _pandas_backlog(engine, town_id), max(3, repeat // 5))
    expected = len(_pandas_backlog(engine, town_id))
    got = len(open_cases(engine, scope=Scope.town(town_id), today=AS_OF))
    assert got == expected, f"backlog {got} rows, pandas {expected}"
    return {
        "town_backlog_ms": town, "grid_backlog_ms": grid, "grid_page_ms": page,
        "pandas_town_ms": baseline, "speedup_vs_pandas": round(baseline / town, 1),
        "town_open_cases": got,
        "grid_open_cases": len(open_cases(engine, scope=district, grid_id=grid_id, today=AS_OF)),
    }


def main() -> None:
    run_on_full_demo(measure, description=__doc__.splitlines()[0], repeat=30, as_of=AS_OF)


if __name__ == "__main__":
    main()
