"""A grid cadre's start page ("my grids"): the grids of their jurisdiction, the open cases there
with deadlines (overdue first, flagged by :mod:`minqing.deadlines` through
:func:`minqing.casebook.open_cases`), and the households paired with cadres (结对户).

Accounts are not linked to cadre records, so "mine" is the viewer's jurisdiction: for a grid
cadre one grid (a scope at area or town level works too, listing every grid in it).
:func:`last_entry` gives the quick diary form its presets (the account's latest entry there).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, func, select

from minqing import casebook
from minqing.access import protect, protect_value
from minqing.clock import today as clock_today
from minqing.grids import split_tags
from minqing.models import (
    Cadre,
    DiaryEntry,
    Grid,
    GroupMember,
    Household,
    Pairing,
    ServiceGroup,
)
from minqing.scope import Scope

PAIRED_COLUMNS = ["id", "code", "head_name", "address", "tags", "grid_id", "grid", "cadres"]


@dataclass(frozen=True)
class MyGrid:
    """One grid on the start page, with its open and overdue case counts."""

    id: int
    code: str
    name: str
    households: int
    open_cases: int
    overdue: int


@dataclass(frozen=True)
class StartPage:
    grids: list[MyGrid]
    backlog: pd.DataFrame  # casebook.BACKLOG_COLUMNS, overdue first
    paired: pd.DataFrame  # PAIRED_COLUMNS


def my_grids(engine: Engine, *, scope: Scope, backlog: pd.DataFrame) -> list[MyGrid]:
    """The active grids in scope, by code, with counts taken from ``backlog``."""
    households = (select(Household.grid_id, func.count().label("n"))
                  .group_by(Household.grid_id).subquery())
    stmt = (
        select(Grid.id, Grid.code, Grid.name, func.coalesce(households.c.n, 0).label("n"))
        .outerjoin(households, households.c.grid_id == Grid.id)
        .where(scope.where(Grid), Grid.active)
        .order_by(Grid.code)
    )
    open_by_grid = backlog.groupby("grid_id").size().to_dict() if len(backlog) else {}
    overdue_by_grid = (backlog[backlog["overdue"]].groupby("grid_id").size().to_dict()
                       if len(backlog) else {})
    with engine.connect() as conn:
        return [MyGrid(id=r.id, code=r.code, name=r.name, households=int(r.n),
                       open_cases=int(open_by_grid.get(r.id, 0)),
                       overdue=int(overdue_by_grid.get(r.id, 0)))
                for r in conn.execute(stmt)]


def paired_households(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """Households in scope whose member is paired with a cadre, with those cadres' names.

    Columns :data:`PAIRED_COLUMNS`; ``tags`` and ``cadres`` are lists. Names and addresses
    are masked for viewers who do not see personal data.
    """
    scope.require_person_level()
    stmt = (
        select(Household.id, Household.code, Household.head_name, Household.address,
               Household.tags, Household.grid_id, Grid.name.label("grid"),
               Cadre.name.label("cadre"))
        .join(GroupMember, GroupMember.household_id == Household.id)
        .join(ServiceGroup, ServiceGroup.id == GroupMember.group_id)
        .join(Pairing, Pairing.member_id == GroupMember.id)
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .join(Grid, Grid.id == Household.grid_id)
        .where(scope.where(Household))
        .order_by(Household.code, Cadre.name)
    )
    merged: dict[int, dict] = {}
    with engine.connect() as conn:
        for r in conn.execute(stmt):
            row = merged.setdefault(r.id, {
                "id": r.id, "code": r.code, "head_name": r.head_name, "address": r.address,
                "tags": split_tags(r.tags), "grid_id": r.grid_id, "grid": r.grid, "cadres": []})
            cadre = protect_value(r.cadre, scope, "name")
            if cadre not in row["cadres"]:
                row["cadres"].append(cadre)
    frame = pd.DataFrame(list(merged.values()), columns=PAIRED_COLUMNS)
    return protect(frame, scope, {"head_name": "name", "address": "address"})


def start_page(engine: Engine, *, scope: Scope, today: dt.date | None = None) -> StartPage:
    """Everything the start page shows, in one call (the page caches it per data version)."""
    backlog = casebook.open_cases(engine, scope=scope, today=today or clock_today())
    return StartPage(grids=my_grids(engine, scope=scope, backlog=backlog), backlog=backlog,
                     paired=paired_households(engine, scope=scope))


def last_entry(engine: Engine, *, scope: Scope, grid_id: int) -> dict | None:
    """Cadre, kind and source of the signed-in account's latest diary entry in ``grid_id``
    (the quick entry form starts from them), or None without a viewer or an entry."""
    if scope.account_id is None:
        return None
    stmt = (
        select(DiaryEntry.cadre_id, DiaryEntry.kind, DiaryEntry.source)
        .where(scope.where(DiaryEntry), DiaryEntry.account_id == scope.account_id,
               DiaryEntry.grid_id == grid_id)
        .order_by(DiaryEntry.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None
