"""Everything about one grid that a supervisor drills into: its profile, its service group and
their cadre pairings, and its KPIs over a period.

Each function takes the caller's scope so that jurisdiction and personal-data masking are enforced
here, once, rather than on the page. A grid outside the scope reads as absent.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, func, select

from minqing.access import protect, protect_value
from minqing.clock import today as clock_today
from minqing.kpi import headline
from minqing.models import (
    Area,
    Cadre,
    Grid,
    GroupMember,
    Household,
    Pairing,
    ServiceGroup,
    Town,
)
from minqing.scope import Scope
from minqing.vocab import HouseholdTag


@dataclass(frozen=True)
class GridProfile:
    """A grid's header: where it is, how big it is, and its special households by tag."""

    id: int
    code: str
    name: str
    kind: str
    town_id: int
    town: str
    area: str
    area_head: str
    households: int
    population: int
    special: dict[str, int] = field(default_factory=dict)
    centroid: tuple[float, float] | None = None  # (lat, lon)
    geom: object = None  # shapely polygon, EPSG:4326
    service_point: tuple[float, float] | None = None  # (lat, lon) of the service group


def split_tags(raw: str | None) -> list[str]:
    """Household tags are stored comma-separated; unknown codes are kept so nothing is hidden."""
    return [tag.strip() for tag in (raw or "").split(",") if tag.strip()]


def grid_profile(engine: Engine, *, scope: Scope, grid_id: int) -> GridProfile | None:
    """The grid's profile, or None when it does not exist or lies outside ``scope``."""
    head = (
        select(Grid.id, Grid.code, Grid.name, Grid.kind, Grid.town_id, Town.name.label("town"),
               Area.name.label("area"), Area.head_name, Grid.geom)
        .join(Town, Town.id == Grid.town_id)
        .join(Area, Area.id == Grid.area_id)
        .where(scope.where(Grid), Grid.id == grid_id)
    )
    point_of_service = select(ServiceGroup.lat, ServiceGroup.lon).where(
        ServiceGroup.grid_id == grid_id)
    sizes = select(func.count(), func.coalesce(func.sum(Household.size), 0)).where(
        Household.grid_id == grid_id)
    tags = select(Household.tags).where(Household.grid_id == grid_id, Household.tags != "")
    with engine.connect() as conn:
        row = conn.execute(head).mappings().first()
        if row is None:
            return None
        households, population = conn.execute(sizes).one()
        tag_counts = Counter(t for (raw,) in conn.execute(tags) for t in split_tags(raw))
        service = conn.execute(point_of_service).first()
    special = {tag.value: tag_counts.get(tag.value, 0) for tag in HouseholdTag}
    point = row["geom"].representative_point() if row["geom"] is not None else None
    return GridProfile(
        id=row["id"], code=row["code"], name=row["name"], kind=row["kind"],
        town_id=row["town_id"], town=row["town"], area=row["area"],
        area_head=protect_value(row["head_name"], scope, "name"),
        households=int(households), population=int(population), special=special,
        centroid=(point.y, point.x) if point is not None else None, geom=row["geom"],
        service_point=(service.lat, service.lon) if service else None,
    )


def grid_choices(engine: Engine, *, scope: Scope) -> list[tuple[int, str]]:
    """(id, "code name") of the grids in scope, for a picker when no ``?grid=`` is given."""
    stmt = select(Grid.id, Grid.code, Grid.name).where(scope.where(Grid)).order_by(Grid.code)
    with engine.connect() as conn:
        return [(r.id, f"{r.code} {r.name}") for r in conn.execute(stmt)]


def service_group(engine: Engine, *, scope: Scope, grid_id: int) -> pd.DataFrame:
    """The grid's service group, leader first: member id, role, name, phone, household id."""
    scope.require_person_level()
    stmt = (
        select(GroupMember.id, GroupMember.role, GroupMember.name, GroupMember.phone,
               GroupMember.household_id, GroupMember.cadre_id)
        .join(ServiceGroup, ServiceGroup.id == GroupMember.group_id)
        .join(Grid, Grid.id == ServiceGroup.grid_id)
        .where(scope.where(Grid), ServiceGroup.grid_id == grid_id)
        .order_by(GroupMember.id)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all(),
                             columns=["id", "role", "name", "phone", "household_id", "cadre_id"])
    frame["_leader"] = frame["role"] != "leader"
    frame = frame.sort_values(["_leader", "id"]).drop(columns="_leader").reset_index(drop=True)
    return protect(frame, scope, {"name": "name", "phone": "phone"})


def group_leader(engine: Engine, *, scope: Scope, grid_id: int) -> tuple[int, str] | None:
    """(cadre id, name) of the liaison cadre leading the grid's service group."""
    scope.require_person_level()
    stmt = (
        select(Cadre.id, Cadre.name)
        .join(ServiceGroup, ServiceGroup.leader_cadre_id == Cadre.id)
        .join(Grid, Grid.id == ServiceGroup.grid_id)
        .where(scope.where(Grid), ServiceGroup.grid_id == grid_id)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return (row.id, protect_value(row.name, scope, "name")) if row else None


def cadre_choices(engine: Engine, *, scope: Scope, grid_id: int) -> list[tuple[int, str]]:
    """Cadres who may write this grid's diary: its group leader, group cadres, paired cadres."""
    scope.require_person_level()
    in_group = (
        select(GroupMember.cadre_id)
        .join(ServiceGroup, ServiceGroup.id == GroupMember.group_id)
        .where(ServiceGroup.grid_id == grid_id, GroupMember.cadre_id.is_not(None))
    )
    paired = (
        select(Pairing.cadre_id)
        .join(GroupMember, GroupMember.id == Pairing.member_id)
        .join(ServiceGroup, ServiceGroup.id == GroupMember.group_id)
        .where(ServiceGroup.grid_id == grid_id)
    )
    leader = select(ServiceGroup.leader_cadre_id).where(ServiceGroup.grid_id == grid_id)
    stmt = (
        select(Cadre.id, Cadre.name, Cadre.level)
        .where(Cadre.id.in_(in_group.union(paired, leader)))
        .where(select(Grid.id).where(scope.where(Grid), Grid.id == grid_id).exists())
    )
    lead = group_leader(engine, scope=scope, grid_id=grid_id)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    lead_id = lead[0] if lead else None
    rows.sort(key=lambda r: (r.id != lead_id, r.name))
    return [(r.id, protect_value(r.name, scope, "name")) for r in rows]


def pairings(engine: Engine, *, scope: Scope, grid_id: int) -> pd.DataFrame:
    """Cadres paired (结对) with this grid's backbone members, at district, town, village level."""
    scope.require_person_level()
    stmt = (
        select(Pairing.level, Cadre.name.label("cadre"), Cadre.unit, Cadre.phone,
               GroupMember.name.label("member"), GroupMember.role.label("member_role"))
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .join(GroupMember, GroupMember.id == Pairing.member_id)
        .join(ServiceGroup, ServiceGroup.id == GroupMember.group_id)
        .join(Grid, Grid.id == ServiceGroup.grid_id)
        .where(scope.where(Grid), ServiceGroup.grid_id == grid_id)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all(),
                             columns=["level", "cadre", "unit", "phone", "member", "member_role"])
    order = {"district": 0, "town": 1, "village": 2}
    frame = frame.sort_values("level", key=lambda s: s.map(order)).reset_index(drop=True)
    return protect(frame, scope, {"cadre": "name", "phone": "phone", "member": "name"})


def grid_kpis(engine: Engine, *, scope: Scope, grid_id: int, kpis: Iterable[str],
              since: dt.date, until: dt.date, today: dt.date | None = None) -> dict | None:
    """The grid's KPIs over ``since``..``until`` (see :mod:`minqing.kpi`), or None when the grid
    lies outside ``scope``."""
    inside = select(Grid.id).where(scope.where(Grid), Grid.id == grid_id)
    with engine.connect() as conn:
        if conn.scalar(inside) is None:
            return None
    return headline(engine, scope=Scope.grid(grid_id), kpis=kpis, since=since, until=until,
                    today=today or clock_today())
