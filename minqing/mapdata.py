"""What the district map (一张图) reads: grids, towns, households, service groups, open cases.

Every function takes the caller's ``scope`` and returns plain (Geo)DataFrames in EPSG:4326, so
``geo`` can turn them into layers without touching the store. Names are masked here, in the data
layer, by the one policy of :mod:`minqing.access`; household heads' names on the map are masked
for everyone unless asked for (a name on a wall is personal data on a wall), and the point
overlays refuse aggregate-only viewers (the wall display).
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, and_, func, select

from minqing.access import mask_name, protect
from minqing.clock import today as clock_today
from minqing.deadlines import days_overdue_clause, open_clause, overdue_clause
from minqing.models import (
    Cadre,
    Case,
    Grid,
    GroupMember,
    Household,
    ServiceGroup,
    Town,
)
from minqing.scope import Scope
from minqing.vocab import MemberRole

CRS = "EPSG:4326"

__all__ = [
    "grid_frame",
    "household_count",
    "household_points",
    "households_in_box",
    "mask_name",
    "open_case_points",
    "service_groups",
    "town_frame",
]


def _frame(engine: Engine, stmt) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(stmt)
        return pd.DataFrame(rows.mappings().all(), columns=list(rows.keys()))


def _geo(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    geometry = frame.pop("geom") if "geom" in frame else None
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS)


def grid_frame(engine: Engine, *, scope: Scope) -> gpd.GeoDataFrame:
    """Grids in scope with their town, area, kind, leader name and polygon.

    ``leader`` is the service group's liaison cadre (a public role, not masked).
    """
    stmt = (
        select(
            Grid.id.label("grid_id"), Grid.code, Grid.name, Grid.kind, Grid.town_id,
            Town.name.label("town_name"), Grid.area_id, Cadre.name.label("leader"), Grid.geom,
        )
        .join(Town, Town.id == Grid.town_id)
        .outerjoin(ServiceGroup, ServiceGroup.grid_id == Grid.id)
        .outerjoin(Cadre, Cadre.id == ServiceGroup.leader_cadre_id)
        .where(scope.where(Grid))
        .order_by(Grid.id)
    )
    return _geo(protect(_frame(engine, stmt), scope, {"leader": "name"}))


def town_frame(engine: Engine, *, scope: Scope) -> gpd.GeoDataFrame:
    """Towns/subdistricts in scope with their boundary."""
    stmt = (
        select(Town.id.label("town_id"), Town.code, Town.name, Town.kind, Town.geom)
        .where(scope.where(Town))
        .order_by(Town.code)
    )
    return _geo(_frame(engine, stmt))


def household_count(engine: Engine, *, scope: Scope) -> int:
    """How many households are in scope: decides points versus aggregates on the map."""
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(Household)
                               .where(scope.where(Household))) or 0)


def household_points(
    engine: Engine,
    *,
    scope: Scope,
    bbox: tuple[float, float, float, float] | None = None,
    reveal_names: bool = False,
    limit: int | None = None,
) -> pd.DataFrame:
    """Household locations in scope, optionally inside ``bbox`` (minx, miny, maxx, maxy).

    Uses the indexed ``lon``/``lat`` columns (no geometry parsing), so the same query serves
    150,000 rows for aggregation and a few thousand for points. Head names are masked unless
    ``reveal_names`` and the viewer sees personal data.
    """
    scope.require_person_level()
    stmt = select(
        Household.id.label("household_id"), Household.code, Household.grid_id,
        Household.head_name, Household.size, Household.tags, Household.lon, Household.lat,
    ).where(scope.where(Household))
    if bbox is not None:
        minx, miny, maxx, maxy = bbox
        stmt = stmt.where(Household.lon.between(minx, maxx), Household.lat.between(miny, maxy))
    if limit is not None:
        stmt = stmt.order_by(Household.id).limit(limit)
    frame = _frame(engine, stmt)
    if not (reveal_names and scope.reveals_personal_data):
        frame["head_name"] = frame["head_name"].map(mask_name)
    return frame


def households_in_box(
    engine: Engine,
    *,
    scope: Scope,
    box: tuple[float, float, float, float],
    limit: int,
) -> pd.DataFrame:
    """Position and special-household tags of the households in scope inside ``box``
    (minx, miny, maxx, maxy, WGS84), for the district map's street view.

    At most ``limit + 1`` rows, so that the caller can tell "more than ``limit``" without
    reading a whole town. Columns ``lon``, ``lat``, ``tags`` only: no name, no code, no id
    (the map draws dots, and whatever reaches the browser can be read there). Each dot is one
    household's place and care category, so aggregate-only viewers (the wall display) get none.
    """
    scope.require_person_level()
    minx, miny, maxx, maxy = box
    stmt = (
        select(Household.lon, Household.lat, Household.tags)
        .where(scope.where(Household), Household.lon.between(minx, maxx),
               Household.lat.between(miny, maxy))
        .limit(limit + 1)
    )
    return _frame(engine, stmt)


def service_groups(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """One row per service group in scope: where it sits, its grid, leader and members.

    ``members`` is a list of ``(role, name)`` pairs in role order (leader first).
    """
    scope.require_person_level()
    groups = (
        select(
            ServiceGroup.id.label("group_id"), ServiceGroup.grid_id, Grid.name.label("grid_name"),
            Cadre.name.label("leader"), ServiceGroup.lon, ServiceGroup.lat,
        )
        .join(Grid, Grid.id == ServiceGroup.grid_id)
        .join(Cadre, Cadre.id == ServiceGroup.leader_cadre_id)
        .where(scope.where(Grid))
        .order_by(ServiceGroup.id)
    )
    members = (
        select(GroupMember.group_id, GroupMember.role, GroupMember.name)
        .join(ServiceGroup, ServiceGroup.id == GroupMember.group_id)
        .join(Grid, Grid.id == ServiceGroup.grid_id)
        .where(scope.where(Grid))
    )
    frame = protect(_frame(engine, groups), scope, {"leader": "name"})
    people = protect(_frame(engine, members), scope, {"name": "name"})
    order = {role.value: i for i, role in enumerate(MemberRole)}
    people["order"] = people["role"].map(order).fillna(len(order))
    people = people.sort_values(["group_id", "order", "name"])
    lists = people.groupby("group_id")[["role", "name"]].apply(
        lambda g: list(zip(g["role"], g["name"], strict=True)))
    frame["members"] = frame["group_id"].map(lists).apply(
        lambda v: v if isinstance(v, list) else [])
    return frame


def open_case_points(
    engine: Engine, *, scope: Scope, today: dt.date | None = None
) -> pd.DataFrame:
    """Open cases in scope with track, status, deadline, the overdue flag and a location.

    A case sits at its household when it has one; otherwise ``lon``/``lat`` are NaN and the map
    places it at its grid. "Open", ``overdue`` and ``days_overdue`` are
    :mod:`minqing.deadlines`' own clauses.
    """
    scope.require_person_level()
    today = today or clock_today()
    stmt = (
        select(
            Case.id.label("case_id"), Case.code, Case.title, Case.track, Case.status,
            Case.deadline, Case.grid_id, Case.green_channel, Case.is_risk,
            overdue_clause(today).label("overdue"),
            days_overdue_clause(today).label("days_overdue"), Household.lon, Household.lat,
        )
        .outerjoin(Household, and_(Household.id == Case.household_id))
        .where(scope.where(Case), open_clause())
        .order_by(Case.deadline, Case.id)
    )
    frame = _frame(engine, stmt)
    frame["overdue"] = frame["overdue"].astype(bool)
    frame["days_overdue"] = frame["days_overdue"].astype(int)
    return frame
