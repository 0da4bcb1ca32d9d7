"""The family archive (家庭档案): a household, its members and tags, the cadres who serve it, and
the practical services done for it; plus the household picker behind the diary form.

Personal data (names, phones, ID numbers, addresses) is read only through a scope and comes back
masked for viewers who do not see it (:mod:`minqing.access`); aggregate-only viewers (the wall
display) are refused. An unmasked archive read by a signed-in viewer is audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Engine, or_, select

from minqing import audit
from minqing.access import protect, protect_row
from minqing.clock import today as clock_today
from minqing.grids import split_tags
from minqing.models import (
    Cadre,
    Grid,
    GroupMember,
    Household,
    HouseholdMember,
    HouseholdService,
    Pairing,
    ServiceGroup,
    Town,
)
from minqing.scope import Scope


@dataclass(frozen=True)
class HouseholdArchive:
    """The archive header plus the people who serve the household."""

    id: int
    code: str
    head_name: str
    phone: str
    id_number: str
    address: str
    size: int
    tags: list[str]
    grid_id: int
    grid: str
    town: str
    lat: float
    lon: float
    members: pd.DataFrame
    liaison_cadre: dict[str, str] | None = None
    paired_cadres: pd.DataFrame = field(default_factory=pd.DataFrame)
    group_roles: list[str] = field(default_factory=list)


def household_archive(engine: Engine, *, scope: Scope, household_id: int) -> HouseholdArchive | None:
    """The household's archive, or None when absent or outside ``scope``; masked for viewers who
    do not see personal data, audited when a signed-in viewer reads it unmasked."""
    scope.require_person_level()
    head = (
        select(Household.id, Household.code, Household.head_name, Household.phone,
               Household.id_number, Household.address, Household.size, Household.tags,
               Household.grid_id, Grid.name.label("grid"), Town.name.label("town"),
               Household.lat, Household.lon)
        .join(Grid, Grid.id == Household.grid_id)
        .join(Town, Town.id == Household.town_id)
        .where(scope.where(Household), Household.id == household_id)
    )
    members = (
        select(HouseholdMember.name, HouseholdMember.relation, HouseholdMember.birth_year)
        .where(HouseholdMember.household_id == household_id)
        .order_by(HouseholdMember.id)
    )
    with engine.connect() as conn:
        row = conn.execute(head).mappings().first()
        if row is None:
            return None
        member_frame = pd.DataFrame(conn.execute(members).mappings().all(),
                                    columns=["name", "relation", "birth_year"])
        liaison = _liaison_cadre(conn, row["grid_id"])
        paired, roles = _pairings(conn, household_id)
    data = protect_row(row, scope, _HEAD)
    data["tags"] = split_tags(data["tags"])
    if liaison is not None:
        liaison = protect_row(liaison, scope, _CADRE)
    if scope.viewer is not None and scope.reveals_personal_data:
        audit.record_for(engine, audit.AuditAction.VIEW_PERSONAL_DATA, scope,
                         target=f"household:{household_id}")
    return HouseholdArchive(**data, members=protect(member_frame, scope, {"name": "name"}),
                            liaison_cadre=liaison, paired_cadres=protect(paired, scope, _CADRE),
                            group_roles=roles)


_HEAD = {"head_name": "name", "phone": "phone", "id_number": "id_number", "address": "address"}
_CADRE = {"name": "name", "phone": "phone"}


def _liaison_cadre(conn, grid_id: int) -> dict[str, str] | None:
    """The grid's liaison cadre (联户干部), who serves every household of the grid."""
    stmt = (
        select(Cadre.name, Cadre.phone, Cadre.unit)
        .join(ServiceGroup, ServiceGroup.leader_cadre_id == Cadre.id)
        .where(ServiceGroup.grid_id == grid_id)
    )
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None


def _pairings(conn, household_id: int) -> tuple[pd.DataFrame, list[str]]:
    """Cadres paired (结对) with this household when it is a central household / service worker."""
    roles = [r for (r,) in conn.execute(
        select(GroupMember.role).where(GroupMember.household_id == household_id))]
    stmt = (
        select(Pairing.level, Cadre.name, Cadre.unit, Cadre.phone)
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .join(GroupMember, GroupMember.id == Pairing.member_id)
        .where(GroupMember.household_id == household_id)
    )
    frame = pd.DataFrame(conn.execute(stmt).mappings().all(),
                         columns=["level", "name", "unit", "phone"])
    return frame, roles


def services_this_year(engine: Engine, *, scope: Scope, household_id: int,
                       today: dt.date | None = None) -> pd.DataFrame:
    """Practical things done for the household (服务代理) since 1 January, newest first."""
    scope.require_person_level()
    today = today or clock_today()
    stmt = (
        select(HouseholdService.done_on, HouseholdService.description,
               Cadre.name.label("cadre"))
        .join(Cadre, Cadre.id == HouseholdService.cadre_id)
        .join(Household, Household.id == HouseholdService.household_id)
        .where(scope.where(Household), HouseholdService.household_id == household_id,
               HouseholdService.done_on >= dt.date(today.year, 1, 1),
               HouseholdService.done_on <= today)
        .order_by(HouseholdService.done_on.desc())
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all(),
                             columns=["done_on", "description", "cadre"])
    return protect(frame, scope, {"cadre": "name"})


def household_choices(engine: Engine, *, scope: Scope, grid_id: int,
                      query: str = "", limit: int = 500) -> list[tuple[int, str]]:
    """(id, label) of a grid's households for the diary form's searchable picker, special
    (tagged) households first.

    The label holds code, head of household and address, so typing any of them in the select box
    finds the household; ``query`` narrows on the server for very large grids. Masked viewers
    search by code only.
    """
    scope.require_person_level()
    stmt = (
        select(Household.id, Household.code, Household.head_name, Household.address)
        .where(scope.where(Household), Household.grid_id == grid_id)
        .order_by(Household.tags == "", Household.code)  # special households (tagged) first
        .limit(limit)
    )
    if query.strip():
        like = f"%{query.strip()}%"
        stmt = stmt.where(or_(Household.head_name.like(like), Household.code.like(like),
                              Household.address.like(like), Household.phone.like(like))
                          if scope.reveals_personal_data else Household.code.like(like))
    with engine.connect() as conn:
        rows = [protect_row(r._mapping, scope, _HEAD) for r in conn.execute(stmt)]
    return [(r["id"], f"{r['head_name']} · {r['address']} · {r['code']}") for r in rows]


def grid_household_points(engine: Engine, *, scope: Scope, grid_id: int) -> pd.DataFrame:
    """Every household of a grid with its location, for the grid map (a few hundred at most)."""
    scope.require_person_level()
    stmt = (
        select(Household.id.label("household_id"), Household.code, Household.head_name,
               Household.size, Household.tags, Household.lat, Household.lon, Household.address,
               Household.phone)
        .where(scope.where(Household), Household.grid_id == grid_id)
        .order_by(Household.code)
    )
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all(),
                             columns=["household_id", "code", "head_name", "size", "tags", "lat",
                                      "lon", "address", "phone"])
    return protect(frame, scope, _HEAD)
