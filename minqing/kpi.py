"""Headline counters and their definitions, in one place.

The counters are the kind the source county reported (diaries issued, problems solved, risks
found) plus the GB/T 30428-style closure rates used to judge units:

- *problems solved*: cases closed;
- *risks found*: diary entries recorded as disputes / hidden risks;
- *open*: cases not yet closed; *overdue*: open cases past their deadline;
- *closure rate*: closed / all cases; *on-time closure rate*: closed on or before the deadline /
  cases that have fallen due (deadline before today, or closed).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, and_, case, distinct, func, or_, select

from minqing.clock import today as clock_today
from minqing.deadlines import overdue_clause
from minqing.models import Case, DiaryEntry, Grid, Household, Town
from minqing.scope import Scope
from minqing.vocab import CaseStatus, RecordKind

CLOSED = CaseStatus.CLOSED.value


def _case_counts(scope: Scope, today: dt.date):
    closed = Case.status == CLOSED
    due = or_(closed, Case.deadline < today)
    on_time = and_(closed, Case.closed_on <= Case.deadline)
    return (
        select(
            Case.town_id.label("town_id"),
            func.count().label("cases"),
            func.sum(case((closed, 1), else_=0)).label("solved"),
            func.sum(case((~closed, 1), else_=0)).label("open"),
            func.sum(case((overdue_clause(today), 1), else_=0)).label("overdue"),
            func.sum(case((due, 1), else_=0)).label("due"),
            func.sum(case((on_time, 1), else_=0)).label("on_time"),
        )
        .where(scope.where(Case))
        .group_by(Case.town_id)
    )


def _diary_counts(scope: Scope, since: dt.date):
    risk = DiaryEntry.kind == RecordKind.RISK.value
    return (
        select(
            DiaryEntry.town_id.label("town_id"),
            func.count().label("diary_entries"),
            func.count(distinct(DiaryEntry.cadre_id)).label("diaries"),
            func.sum(case((risk, 1), else_=0)).label("risks"),
        )
        .where(scope.where(DiaryEntry))
        .group_by(DiaryEntry.town_id)
    )


def town_table(engine: Engine, *, scope: Scope, today: dt.date | None = None) -> pd.DataFrame:
    """One row per town in scope with its counters; the overview's table and totals."""
    today = today or clock_today()
    towns = select(Town.id.label("town_id"), Town.code, Town.name, Town.kind).where(scope.where(Town))
    grids = (
        select(Grid.town_id.label("town_id"), func.count().label("grids"))
        .where(scope.where(Grid)).group_by(Grid.town_id)
    )
    households = (
        select(Household.town_id.label("town_id"), func.count().label("households"))
        .where(scope.where(Household)).group_by(Household.town_id)
    )
    with engine.connect() as conn:
        frames = [pd.DataFrame(conn.execute(q).mappings().all()) for q in
                  (towns, grids, households, _diary_counts(scope, today), _case_counts(scope, today))]
    table = frames[0]
    if table.empty:
        return table
    for frame in frames[1:]:
        if not frame.empty:
            table = table.merge(frame, on="town_id", how="left")
    numeric = ["grids", "households", "diary_entries", "diaries", "risks", "cases", "solved", "open",
               "overdue", "due", "on_time"]
    for col in numeric:
        values = table[col] if col in table else pd.Series(0, index=table.index)
        table[col] = pd.to_numeric(values, errors="coerce").fillna(0).astype(int)
    table["on_time_rate"] = _rate(table["on_time"], table["due"])
    return table.sort_values("code").reset_index(drop=True)


def headline(engine: Engine, *, scope: Scope, today: dt.date | None = None,
             table: pd.DataFrame | None = None) -> dict[str, float]:
    """Totals for the scope: the per-town counters summed, plus the diaries issued.

    "Diaries issued" counts the cadres who kept a diary in the scope. A cadre may write in more
    than one town, so it is counted once over the scope rather than summed over towns.
    """
    table = town_table(engine, scope=scope, today=today) if table is None else table
    totals = {col: int(table[col].sum()) if not table.empty else 0 for col in
              ("grids", "households", "diary_entries", "risks", "cases", "solved",
               "open", "overdue", "due", "on_time")}
    keepers = select(func.count(distinct(DiaryEntry.cadre_id))).where(scope.where(DiaryEntry))
    with engine.connect() as conn:
        totals["diaries"] = int(conn.scalar(keepers) or 0)
    totals["on_time_rate"] = (totals["on_time"] / totals["due"]) if totals["due"] else 0.0
    totals["closure_rate"] = (totals["solved"] / totals["cases"]) if totals["cases"] else 0.0
    return totals


def _rate(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)).fillna(0.0)


# --- per-grid counters for the district map (一张图) ---

RISK_WINDOW_DAYS = 90
""""Risks found" on the map counts risk diary entries of the last 90 days (a quarter's check)."""
RECENT_DIARY_DAYS = 30
""""Diary entries" on the map counts the last 30 days: the monthly follow-up's horizon."""

GRID_COUNTERS = ("households", "open_cases", "overdue_cases", "risks_90d", "diary_30d",
                 "days_since_diary")


def _grid_case_counts(scope: Scope, today: dt.date):
    return (
        select(
            Case.grid_id.label("grid_id"),
            func.count().label("open_cases"),
            func.sum(case((overdue_clause(today), 1), else_=0)).label("overdue_cases"),
        )
        .where(scope.where(Case), Case.status != CLOSED)
        .group_by(Case.grid_id)
    )


def _grid_diary_counts(scope: Scope, today: dt.date):
    risk_since = today - dt.timedelta(days=RISK_WINDOW_DAYS)
    recent_since = today - dt.timedelta(days=RECENT_DIARY_DAYS)
    in_window = DiaryEntry.entry_date <= today
    risk = and_(DiaryEntry.kind == RecordKind.RISK.value, DiaryEntry.entry_date > risk_since)
    return (
        select(
            DiaryEntry.grid_id.label("grid_id"),
            func.sum(case((risk, 1), else_=0)).label("risks_90d"),
            func.sum(case((DiaryEntry.entry_date > recent_since, 1), else_=0)).label("diary_30d"),
            func.max(DiaryEntry.entry_date).label("last_diary"),
        )
        .where(scope.where(DiaryEntry), in_window)
        .group_by(DiaryEntry.grid_id)
    )


def grid_counters(engine: Engine, *, scope: Scope, today: dt.date | None = None) -> pd.DataFrame:
    """One row per grid in scope with the counters the map colours grids by.

    Columns: ``households``, ``open_cases``, ``overdue_cases`` (open and past the deadline, see
    :func:`minqing.deadlines.overdue_clause`), ``risks_90d`` (risk diary entries in the last
    :data:`RISK_WINDOW_DAYS` days), ``diary_30d`` (entries in the last :data:`RECENT_DIARY_DAYS`
    days), ``last_diary`` (date or NaT) and ``days_since_diary`` (float, NaN when the grid has no
    entry at all: a silent grid is shown as such, not as "0 days").

    Parameters
    ----------
    engine : Engine
    scope : Scope
        Only grids (and their records) inside it are counted.
    today : date, optional
        The day windows and overdue are measured from (default :func:`minqing.clock.today`).

    Returns
    -------
    DataFrame
        Indexed by ``grid_id``; grids with no records get zeros.
    """
    today = today or clock_today()
    grids = select(Grid.id.label("grid_id")).where(scope.where(Grid))
    households = (
        select(Household.grid_id.label("grid_id"), func.count().label("households"))
        .where(scope.where(Household)).group_by(Household.grid_id)
    )
    with engine.connect() as conn:
        frames = [pd.DataFrame(conn.execute(q).mappings().all()) for q in
                  (grids, households, _grid_case_counts(scope, today),
                   _grid_diary_counts(scope, today))]
    table = frames[0] if not frames[0].empty else pd.DataFrame({"grid_id": pd.Series(dtype=int)})
    for frame in frames[1:]:
        if not frame.empty:
            table = table.merge(frame, on="grid_id", how="left")
    for col in ("households", "open_cases", "overdue_cases", "risks_90d", "diary_30d"):
        values = table[col] if col in table else pd.Series(0, index=table.index)
        table[col] = pd.to_numeric(values, errors="coerce").fillna(0).astype(int)
    last = pd.to_datetime(table.get("last_diary", pd.Series(pd.NaT, index=table.index)))
    table["last_diary"] = last
    table["days_since_diary"] = (pd.Timestamp(today) - last).dt.days.astype(float)
    return table.set_index("grid_id").sort_index()


def grid_headline(counters: pd.DataFrame) -> dict[str, int]:
    """Totals of :func:`grid_counters` for the map's side panel.

    A *silent grid* has had no diary entry for more than :data:`RECENT_DIARY_DAYS` days (or
    none at all): the grids a supervisor should ask about first.
    """
    silent = counters["days_since_diary"].isna() | (counters["days_since_diary"] > RECENT_DIARY_DAYS)
    totals = {col: int(counters[col].sum()) for col in
              ("households", "open_cases", "overdue_cases", "risks_90d", "diary_30d")}
    return {"grids": len(counters), "silent_grids": int(silent.sum()), **totals}


def monthly_trend(engine: Engine, *, scope: Scope, months: int = 24,
                  today: dt.date | None = None) -> pd.DataFrame:
    """Diary entries, risks found and cases opened per month, for the overview's trend chart.

    Grouping by day in SQL (at most a few hundred rows) and by month in pandas keeps the query
    portable between SQLite and PostgreSQL, which spell month truncation differently.
    """
    today = today or clock_today()
    start = (today.replace(day=1) - pd.DateOffset(months=months - 1)).date()
    risk = DiaryEntry.kind == RecordKind.RISK.value
    entries = (
        select(DiaryEntry.entry_date.label("day"), func.count().label("diary_entries"),
               func.sum(case((risk, 1), else_=0)).label("risks"))
        .where(scope.where(DiaryEntry), DiaryEntry.entry_date >= start)
        .group_by(DiaryEntry.entry_date)
    )
    opened = (
        select(Case.opened_on.label("day"), func.count().label("cases"))
        .where(scope.where(Case), Case.opened_on >= start)
        .group_by(Case.opened_on)
    )
    with engine.connect() as conn:
        by_day = [pd.DataFrame(conn.execute(q).mappings().all()) for q in (entries, opened)]
    index = pd.period_range(start, today, freq="M")
    out = pd.DataFrame(index=index)
    for frame in by_day:
        if frame.empty:
            continue
        frame["month"] = pd.to_datetime(frame.pop("day")).dt.to_period("M")
        out = out.join(frame.groupby("month").sum(numeric_only=True))
    out = out.reindex(columns=["diary_entries", "risks", "cases"]).fillna(0).astype(int)
    out.index = out.index.strftime("%Y-%m")
    return out
