"""Everything the grid page shows about one grid, loaded in one call.

The page caches this call per data version; ``bench/backlog.py`` times the same call, so the
benchmark measures exactly what a supervisor waits for when a grid opens.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine

from minqing import casebook, diary, grids, households
from minqing.clock import today as clock_today
from minqing.scope import Scope


@dataclass(frozen=True)
class GridPage:
    """One grid's drill-down: profile, people, households, open cases, recent diary entries."""

    profile: grids.GridProfile
    group: pd.DataFrame
    pairings: pd.DataFrame
    cadres: list[tuple[int, str]]
    households: list[tuple[int, str]]
    points: pd.DataFrame
    backlog: pd.DataFrame
    recent: pd.DataFrame


def grid_page(engine: Engine, *, scope: Scope, grid_id: int,
              today: dt.date | None = None) -> GridPage | None:
    """The grid's drill-down, or None when the grid is absent or outside ``scope``.

    ``recent`` is the latest diary entries, unfiltered (the page filters the timeline
    separately); the KPIs over the chosen period are read by :func:`grids.grid_kpis`.
    """
    today = today or clock_today()
    profile = grids.grid_profile(engine, scope=scope, grid_id=grid_id)
    if profile is None:
        return None
    kw = {"scope": scope, "grid_id": grid_id}
    return GridPage(
        profile=profile,
        group=grids.service_group(engine, **kw),
        pairings=grids.pairings(engine, **kw),
        cadres=grids.cadre_choices(engine, **kw),
        households=households.household_choices(engine, **kw),
        points=households.grid_household_points(engine, **kw),
        backlog=casebook.open_cases(engine, **kw, today=today),
        recent=diary.timeline(engine, **kw, limit=50),
    )
