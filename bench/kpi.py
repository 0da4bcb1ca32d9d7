"""Benchmark: the KPI views, the consultation agenda and the ranking export, against pandas.

    python bench/kpi.py [--url URL] [--repeat N]

Measures, on the full demo district (built into a temporary SQLite file unless ``--url`` points
at one; and the same on PostGIS when ``MINQING_TEST_PG_URL`` is set):

- ``all_levels_ms``: the KPI table of the KPI page for every town, area, grid and cadre over the
  last 12 months (:func:`minqing.kpi.evaluate_levels`);
- ``trend_ms``: the district's monthly trend of the dated KPIs over 24 months;
- ``consultation_agenda_ms``: the consultation agenda of the town with the most open cases;
- ``excel_ranking_s``: the year's cadre ranking computed and written to .xlsx;
- ``pandas_baseline_ms``: the same all-levels table computed by loading the rows into pandas and
  grouping there, in the same run; ``speedup`` = ``pandas_baseline_ms / all_levels_ms``.

Goals (issue 9): all_levels_ms <= 300, agenda <= 50, speedup >= 10. Each figure is the median of
``--repeat`` runs after a warm-up. The last line printed is one JSON object (with a ``postgis``
object inside when PostGIS was measured too).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from minqing import kpi
from minqing.kpi import LEVELS, evaluate_levels, trend
from minqing.models import Case, CaseEvent, DiaryEntry, DiaryReview, Grid, Household, ServiceGroup
from minqing.scope import Scope
from minqing.store import get_engine
from minqing.supervision import meetings, scoring
from minqing.vocab import OPEN_STATUSES
from minqing.xlsx import Sheet, workbook_bytes

AS_OF = dt.date(2026, 11, 20)
SINCE = AS_OF - dt.timedelta(days=364)
DISTRICT = Scope.district()
#: the KPI page's table (app_pages/kpis.py)
COLUMNS = ("diary_entries", "risks_found", "risks_resolved", "cases_due", "closure_rate",
           "on_time_rate", "extension_rate", "rework_rate", "satisfaction_rate",
           "visit_coverage", "silent_grids", "open_cases", "overdue_cases")


def _median_ms(call: Callable[[], object], repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def _busiest_town(engine: Engine) -> int:
    stmt = (select(Case.town_id, func.count()).where(Case.status.in_([s.value for s in OPEN_STATUSES]))
            .group_by(Case.town_id).order_by(func.count().desc()).limit(1))
    with engine.connect() as conn:
        return conn.execute(stmt).first()[0]


def _read(engine: Engine, *columns) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(*columns)).all(),
                            columns=[c.key for c in columns])


def pandas_all_levels(engine: Engine) -> dict[str, pd.DataFrame]:
    """The baseline: the rows into pandas, every measure of the KPI table grouped there."""
    grids = _read(engine, Grid.id, Grid.town_id, Grid.area_id)
    leaders = _read(engine, ServiceGroup.grid_id, ServiceGroup.leader_cadre_id)
    grids = grids.merge(leaders, left_on="id", right_on="grid_id", how="left").drop(columns="grid_id")
    entries = _read(engine, DiaryEntry.id, DiaryEntry.grid_id, DiaryEntry.cadre_id,
                    DiaryEntry.household_id, DiaryEntry.entry_date, DiaryEntry.kind)
    cases = _read(engine, Case.id, Case.grid_id, Case.diary_entry_id, Case.status, Case.deadline,
                  Case.closed_on, Case.satisfaction, Case.is_risk)
    events = _read(engine, CaseEvent.case_id, CaseEvent.action)
    homes = _read(engine, Household.id, Household.grid_id)
    _read(engine, DiaryReview.entry_id, DiaryReview.outcome)  # loaded as the app would need it
    place = grids.set_index("id")[["town_id", "area_id", "leader_cadre_id"]]
    for frame in (entries, cases, homes):
        frame[["town", "area", "leader"]] = place.loc[frame["grid_id"]].to_numpy()
    cases["cadre"] = cases["diary_entry_id"].map(entries.set_index("id")["cadre_id"])
    entries["cadre"] = entries["cadre_id"]
    homes["cadre"] = homes["leader"]
    g = grids.rename(columns={"id": "grid_id", "town_id": "town", "area_id": "area",
                              "leader_cadre_id": "cadre"})
    day = pd.to_datetime(entries["entry_date"])
    in_period = (day >= pd.Timestamp(SINCE)) & (day <= pd.Timestamp(AS_OF))
    e = entries[in_period]
    closed = cases["status"] == "closed"
    deadline, closed_on = pd.to_datetime(cases["deadline"]), pd.to_datetime(cases["closed_on"])
    on_time = closed & (closed_on <= deadline)
    falls = closed_on.where(on_time, deadline)
    due = (closed | (deadline < pd.Timestamp(AS_OF))) & falls.between(pd.Timestamp(SINCE),
                                                                       pd.Timestamp(AS_OF))
    tagged = {tag: set(events.loc[events["action"].isin(
        [n for n, s in kpi.ACTIONS.items() if tag in s.counts_as]), "case_id"])
        for tag in ("extension", "rework")}
    c = pd.DataFrame({
        "cases_due": due, "due_closed": due & closed, "due_on_time": due & on_time,
        "due_extended": due & cases["id"].isin(tagged["extension"]),
        "due_reworked": due & cases["id"].isin(tagged["rework"]),
        "due_with_feedback": due & cases["satisfaction"].notna(),
        "due_satisfied": due & cases["satisfaction"].isin(kpi.SATISFIED),
        "risk_cases_closed": closed & cases["is_risk"].astype(bool)
        & closed_on.between(pd.Timestamp(SINCE), pd.Timestamp(AS_OF)),
        "open_now": ~closed, "overdue_now": ~closed & (deadline < pd.Timestamp(AS_OF)),
    }).astype(int)
    visited = set(e["household_id"].dropna())
    recent = set(entries.loc[day.between(pd.Timestamp(AS_OF - dt.timedelta(days=kpi.SILENT_DAYS - 1)),
                                         pd.Timestamp(AS_OF)), "grid_id"])
    out = {}
    for level in LEVELS:
        key = "grid_id" if level == "grid" else level
        table = pd.concat([
            pd.DataFrame({"diary_entries": 1, "risk_entries": (e["kind"] == "risk").astype(int),
                          "k": e[key]}).groupby("k").sum(),
            c.assign(k=cases[key]).groupby("k").sum(),
            pd.DataFrame({"households": 1, "households_visited": homes["id"].isin(visited)
                          .astype(int), "k": homes[key]}).groupby("k").sum(),
            pd.DataFrame({"grids": 1, "silent_grids": (~g["grid_id"].isin(recent)).astype(int),
                          "k": g[key]}).groupby("k").sum(),
        ], axis=1).fillna(0)
        for name, num, den in (("closure_rate", "due_closed", "cases_due"),
                               ("on_time_rate", "due_on_time", "cases_due"),
                               ("extension_rate", "due_extended", "cases_due"),
                               ("rework_rate", "due_reworked", "cases_due"),
                               ("satisfaction_rate", "due_satisfied", "due_with_feedback"),
                               ("visit_coverage", "households_visited", "households")):
            table[name] = table[num] / table[den].where(table[den] > 0)
        out[level] = table
    return out


def _all_levels(engine: Engine) -> dict[str, pd.DataFrame]:
    return evaluate_levels(engine, scope=DISTRICT, levels=LEVELS, kpis=COLUMNS, since=SINCE,
                           until=AS_OF, today=AS_OF)


def _check(engine: Engine) -> None:
    """The baseline computes the same table (a benchmark of two different answers is void)."""
    ours, theirs = _all_levels(engine), pandas_all_levels(engine)
    for level in LEVELS:
        for col in ("cases_due", "on_time_rate", "extension_rate", "visit_coverage",
                    "silent_grids", "overdue_cases"):
            src = {"overdue_cases": "overdue_now"}.get(col, col)
            a = ours[level][col].astype(float)
            b = theirs[level][src].reindex(a.index).astype(float)
            assert np.allclose(a.fillna(-1), b.fillna(-1)), (level, col)


def _ranking_xlsx(engine: Engine) -> int:
    table = scoring.compute(engine, scope=DISTRICT, year=AS_OF.year - 1, today=AS_OF)
    return len(workbook_bytes([Sheet("ranking", table, filters=[("year", str(AS_OF.year - 1))])]))


def measure(url: str, repeat: int) -> dict[str, float]:
    engine = get_engine(url)
    _check(engine)
    town = _busiest_town(engine)
    dated = [k for k in COLUMNS if kpi.KPIS[k].dated]
    levels = _median_ms(lambda: _all_levels(engine), repeat)
    baseline = _median_ms(lambda: pandas_all_levels(engine), max(1, repeat // 2))
    start = time.perf_counter()
    _ranking_xlsx(engine)
    return {
        "all_levels_ms": levels,
        "trend_ms": _median_ms(lambda: trend(engine, scope=DISTRICT, kpis=dated, months=24,
                                             today=AS_OF), repeat),
        "consultation_agenda_ms": _median_ms(lambda: meetings.agenda(
            engine, scope=DISTRICT, kind="consultation", town_id=town, today=AS_OF), repeat),
        "excel_ranking_s": round(time.perf_counter() - start, 2),
        "pandas_baseline_ms": baseline,
        "speedup": round(baseline / levels, 1),
    }


def _build(url: str) -> None:
    from minqing.demo import build

    build(url, scale="full", seed=2026, as_of=AS_OF, progress=True)


def _postgis(repeat: int) -> dict[str, float] | None:
    pg = os.environ.get("MINQING_TEST_PG_URL")
    if not pg:
        return None
    import psycopg

    admin = pg.replace("postgresql+psycopg://", "postgresql://")
    name = f"mq_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = f"{pg.rsplit('/', 1)[0]}/{name}"
    try:
        _build(url)
        return measure(url, repeat)
    finally:
        get_engine(url).dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a database holding the full demo (default: build one)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if url is None:
            url = f"sqlite:///{Path(tmp) / 'full.db'}"
            _build(url)
        result: dict[str, object] = measure(url, args.repeat)
        get_engine(url).dispose()
    pg = _postgis(args.repeat)
    if pg is not None:
        result["postgis"] = pg
    result["load_average"] = round(os.getloadavg()[0], 1)
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
