"""Weekly diary review: the queue, sending back, and what makes a cadre "behind"."""

from __future__ import annotations

import datetime as dt

import pytest

from minqing.errors import InputError, NotFoundError, RuleError
from minqing.models import Cadre, Grid
from minqing.scope import Scope
from minqing.store import get_engine, session_scope
from minqing.supervision import reviews
from tests.conftest import AS_OF
from tests.minqing.supervision.conftest import add_entry

ALL = Scope.district()
D = dt.timedelta(days=1)


def _area(world) -> int:
    with session_scope(get_engine(world.url)) as s:
        return s.get(Grid, world.grid_id).area_id


def test_queue_holds_unreviewed_entries_of_four_weeks_oldest_first(world):
    engine = get_engine(world.url)
    old = add_entry(world, day=AS_OF - 28 * D)  # outside the four-week window
    first = add_entry(world, day=AS_OF - 27 * D)
    passed = add_entry(world, day=AS_OF - 10 * D)
    returned = add_entry(world, day=AS_OF - 5 * D)
    newest = add_entry(world, day=AS_OF, grid_id=world.other_grid_id)
    add_entry(world, day=AS_OF + D)  # written "tomorrow": not yet
    reviews.review_entry(engine, scope=ALL, entry_id=passed, outcome="passed", reviewer="王片长",
                         today=AS_OF)
    reviews.review_entry(engine, scope=ALL, entry_id=returned, outcome="returned",
                         reviewer="王片长", comment="请补充群众诉求的办理情况", today=AS_OF)
    queue = reviews.review_queue(engine, scope=ALL, area_id=_area(world), today=AS_OF)
    assert queue["id"].tolist() == [first, newest]
    assert old not in queue["id"].tolist()
    back = reviews.returned_entries(engine, scope=ALL, area_id=_area(world))
    assert back[["id", "request"]].values.tolist() == [[returned, "请补充群众诉求的办理情况"]]
    # passing it later takes it off the returned list
    reviews.review_entry(engine, scope=ALL, entry_id=returned, outcome="passed",
                         reviewer="王片长", today=AS_OF)
    assert reviews.returned_entries(engine, scope=ALL, area_id=_area(world)).empty
    assert reviews.unreviewed_by_grid(engine, scope=ALL, today=AS_OF).to_dict() == {
        world.grid_id: 1, world.other_grid_id: 1}


def test_review_refusals(world):
    engine = get_engine(world.url)
    entry = add_entry(world, day=AS_OF - D)
    with pytest.raises(InputError) as err:
        reviews.review_entry(engine, scope=ALL, entry_id=entry, outcome="returned",
                             reviewer="王片长", today=AS_OF)
    assert err.value.field == "comment"
    with pytest.raises(InputError):
        reviews.review_entry(engine, scope=ALL, entry_id=entry, outcome="passed", reviewer=" ")
    with pytest.raises(NotFoundError):
        reviews.review_entry(engine, scope=Scope.grid(world.other_grid_id), entry_id=entry,
                             outcome="passed", reviewer="王片长")
    reviews.review_entry(engine, scope=ALL, entry_id=entry, outcome="passed", reviewer="王片长")
    with pytest.raises(RuleError):
        reviews.review_entry(engine, scope=ALL, entry_id=entry, outcome="passed",
                             reviewer="王片长")


def test_cadres_behind(world):
    engine = get_engine(world.url)
    with session_scope(engine) as s:
        quiet = Cadre(name="静干部", phone="1", level="village", town_id=world.town_id, unit="x")
        late = Cadre(name="迟干部", phone="2", level="village", town_id=world.town_id, unit="x")
        fine = Cadre(name="好干部", phone="3", level="village", town_id=world.town_id, unit="x")
        s.add_all([quiet, late, fine])
        s.flush()
        ids = quiet.id, late.id, fine.id
    add_entry(world, day=AS_OF - 20 * D, cadre_id=ids[0])  # silent 20 days > 14; reviewed
    reviews.review_entry(engine, scope=ALL, entry_id=add_entry(world, day=AS_OF - 21 * D,
                                                               cadre_id=ids[0]),
                         outcome="passed", reviewer="王片长")
    add_entry(world, day=AS_OF - 8 * D, cadre_id=ids[1])  # unreviewed for more than 7 days
    add_entry(world, day=AS_OF - 2 * D, cadre_id=ids[2])  # recent, awaiting review: fine
    add_entry(world, day=AS_OF - 3 * D, cadre_id=world.cadre_id)
    reviews.review_entry(engine, scope=ALL, entry_id=add_entry(world, day=AS_OF - 1 * D),
                         outcome="returned", reviewer="王片长", comment="补充")
    table = reviews.cadres_behind(engine, scope=ALL, area_id=_area(world), today=AS_OF)
    got = dict(zip(table["cadre"], table["reasons"], strict=True))
    assert got["静干部"][:1] == ["silent"]
    assert "unreviewed" in got["静干部"]
    assert got["迟干部"] == ["unreviewed"]
    assert got["好干部"] == []
    assert got["李干部"] == ["returned"]  # the group leader: a returned entry
    assert table.loc[table["cadre"] == "静干部", "days_since"].item() == 20
    relaxed = reviews.cadres_behind(engine, scope=ALL, area_id=_area(world), today=AS_OF,
                                    silent_days=30)
    assert "silent" not in dict(zip(relaxed["cadre"], relaxed["reasons"], strict=True))["静干部"]
