"""Every write moves the data version, whoever writes (ORM session, Core statement), and only a
committed write does."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select, update

from minqing.models import Cadre, GroupMember, Household, HouseholdService, Pairing
from minqing.registry import data_version
from minqing.store import get_engine, session_scope
from tests.world import World, build_world


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def test_reading_leaves_it_and_each_kind_of_write_moves_it(world):
    engine = get_engine(world.url)
    seen = [data_version(engine)]
    with engine.connect() as conn:
        conn.execute(select(Household.id)).all()
    assert data_version(engine) == seen[-1]

    def moved() -> bool:
        now = data_version(engine)
        fresh = now not in seen
        seen.append(now)
        return fresh

    with session_scope(engine) as s:  # an edited household (ORM update)
        s.get(Household, world.household_id).phone = "13911112222"
    assert moved()
    with session_scope(engine) as s:  # a service done for a household (ORM insert)
        s.add(HouseholdService(household_id=world.household_id, cadre_id=world.cadre_id,
                               done_on=dt.date(2026, 11, 20), description="代办社保"))
    assert moved()
    with engine.begin() as conn:  # a pairing written by a Core statement (as an import would)
        member = conn.scalar(select(GroupMember.id).where(GroupMember.role == "leader"))
        boss = conn.scalar(select(Cadre.id).where(Cadre.level == "district"))
        conn.execute(insert(Pairing).values(cadre_id=boss, member_id=member, level="district"))
    assert moved()
    with engine.begin() as conn:  # a bulk update
        conn.execute(update(Household).values(size=Household.size + 1))
    assert moved()


def test_a_rolled_back_write_leaves_it(world):
    engine = get_engine(world.url)
    before = data_version(engine)
    def refused_edit() -> None:
        with session_scope(engine) as s:
            s.get(Household, world.household_id).phone = "13900000000"
            s.flush()
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError, match="refused"):
        refused_edit()
    assert data_version(engine) == before


def test_two_writes_in_one_transaction_move_it_once(world):
    engine = get_engine(world.url)
    with session_scope(engine) as s:
        s.get(Household, world.household_id).size = 5
    before = int(data_version(engine).rsplit(":", 1)[1])
    with engine.begin() as conn:
        conn.execute(update(Household).values(size=4))
        conn.execute(update(Household).values(size=3))
    assert int(data_version(engine).rsplit(":", 1)[1]) == before + 1
