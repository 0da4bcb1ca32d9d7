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
        table[col] = pd.to_numeric(table.get(col, 0), errors="coerce").fillna(0).astype(int)
    table["on_time_rate"] = _rate(table["on_time"], table["due"])
    return table.sort_values("code").reset_index(drop=True)


def headline(table: pd.DataFrame) -> dict[str, float]:
    """District (or scope) totals from :func:`town_table`."""
    totals = {col: int(table[col].sum()) if not table.empty else 0 for col in
              ("grids", "households", "diary_entries", "diaries", "risks", "cases", "solved",
               "open", "overdue", "due", "on_time")}
    totals["on_time_rate"] = (totals["on_time"] / totals["due"]) if totals["due"] else 0.0
    totals["closure_rate"] = (totals["solved"] / totals["cases"]) if totals["cases"] else 0.0
    return totals


def _rate(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)).fillna(0.0)
