"""A tiny hand-built district for the case and diary tests: one town, two grids, a few households,
a service group with a pairing. Built in code so a test states exactly what it relies on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shapely.geometry import MultiPolygon, Point, box

from minqing.models import (
    Area,
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
from minqing.store import get_engine, session_scope


@dataclass(frozen=True)
class World:
    url: str
    town_id: int
    grid_id: int
    other_grid_id: int
    cadre_id: int
    household_id: int
    other_household_id: int


def build_world(url: str) -> World:
    """Write the tiny district into a fresh schema at ``url``."""
    engine = get_engine(url)
    with session_scope(engine) as s:
        town = Town(code="T01", name="清河镇", kind="town", geom=MultiPolygon([box(120, 30, 121, 31)]))
        s.add(town)
        s.flush()
        area = Area(town_id=town.id, name="东片", head_name="王片长")
        s.add(area)
        s.flush()
        grids = [Grid(code=f"G0{i}", name=f"第{i}网格", town_id=town.id, area_id=area.id,
                      kind="rural", geom=box(120 + i / 10, 30, 120.1 + i / 10, 30.1))
                 for i in (1, 2)]
        s.add_all(grids)
        cadre = Cadre(name="李干部", phone="13800000001", level="village", town_id=town.id,
                      unit="清河村")
        boss = Cadre(name="赵区长", phone="13800000009", level="district", town_id=None,
                     unit="区政府办")
        s.add_all([cadre, boss])
        s.flush()
        homes = [Household(code=f"H{i}", grid_id=grids[i % 2].id, town_id=town.id,
                           head_name=f"张{i}", phone=f"1390000000{i}", id_number="0" * 18,
                           address=f"清河村{i}号", size=3, tags="wubao" if i == 0 else "",
                           lon=120.15, lat=30.05, geom=Point(120.15, 30.05)) for i in range(4)]
        s.add_all(homes)
        s.flush()
        s.add(HouseholdMember(household_id=homes[0].id, name="张0", relation="head",
                              birth_year=1950))
        s.add(HouseholdService(household_id=homes[0].id, cadre_id=cadre.id,
                               done_on=dt.date(2026, 3, 1), description="代办医保"))
        group = ServiceGroup(grid_id=grids[1].id, leader_cadre_id=cadre.id, lon=120.25, lat=30.05)
        s.add(group)
        s.flush()
        leader = GroupMember(group_id=group.id, role="leader", name=cadre.name,
                             phone=cadre.phone, cadre_id=cadre.id)
        central = GroupMember(group_id=group.id, role="central_household", name="张1",
                              phone="13900000001", household_id=homes[1].id)
        s.add_all([leader, central])
        s.flush()
        s.add(Pairing(cadre_id=boss.id, member_id=central.id, level="district"))
        return World(url=url, town_id=town.id, grid_id=grids[1].id, other_grid_id=grids[0].id,
                     cadre_id=cadre.id, household_id=homes[1].id,
                     other_household_id=homes[0].id)
