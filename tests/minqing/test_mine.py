"""A grid cadre's start page queries (minqing.mine), the quick entry's presets and special
households first, and the idempotency key that makes a repeated diary submission write once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from minqing import mine
from minqing.cases import NewCase
from minqing.diary import NewEntry, record
from minqing.households import household_choices
from minqing.models import Case, DiaryEntry, Household
from minqing.scope import Scope
from minqing.store import get_engine, session_scope
from tests.auth import viewer_for
from tests.world import World, build_world

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def _entry(world: World, **overrides) -> NewEntry:
    fields = {"grid_id": world.grid_id, "cadre_id": world.cadre_id, "entry_date": TODAY,
              "kind": "demand", "source": "house_call", "text": "村口路灯坏了",
              "household_id": world.household_id}
    return NewEntry(**(fields | overrides))


def _count(world: World, model) -> int:
    with session_scope(get_engine(world.url)) as s:
        return s.scalar(select(func.count()).select_from(model))


def _case() -> NewCase:
    return NewCase(grid_id=0, title="修路灯", track="immediate", responsible="李干部")


def test_a_repeated_submission_writes_one_entry_and_one_case(world):
    engine = get_engine(world.url)
    entries, cases = _count(world, DiaryEntry), _count(world, Case)
    first = record(engine, entry=_entry(world, key="k-1"), case=_case(), actor="t", today=TODAY)
    again = record(engine, entry=_entry(world, key="k-1"), case=_case(), actor="t", today=TODAY)
    assert again == first
    assert first[1] is not None
    assert _count(world, DiaryEntry) == entries + 1
    assert _count(world, Case) == cases + 1


def test_other_keys_and_no_key_write_each_time(world):
    engine = get_engine(world.url)
    entries = _count(world, DiaryEntry)
    ids = {record(engine, entry=_entry(world, key=k), actor="t", today=TODAY)[0]
           for k in ("a", "b", None, None)}
    assert len(ids) == 4
    assert _count(world, DiaryEntry) == entries + 4


def test_a_key_longer_than_the_column_is_a_bug(world):
    with pytest.raises(ValueError, match="idempotency key"):
        record(get_engine(world.url), entry=_entry(world, key="x" * 65), actor="t", today=TODAY)


def test_start_page_of_one_grid(world):
    engine = get_engine(world.url)
    record(engine, entry=_entry(world), case=_case(), actor="t", today=TODAY)
    page = mine.start_page(engine, scope=Scope.grid(world.grid_id), today=TODAY)
    # the world's second grid: households H1 and H3, one open case (3 working days, not overdue)
    assert [(g.id, g.code, g.households, g.open_cases, g.overdue) for g in page.grids] == [
        (world.grid_id, "G02", 2, 1, 0)]
    assert list(page.backlog["title"]) == ["修路灯"]
    # H1's head is the central household paired with the district cadre
    assert page.paired.to_dict("records") == [{
        "id": world.household_id, "code": "H1", "head_name": "张1", "address": "清河村1号",
        "tags": [], "grid_id": world.grid_id, "grid": "第2网格", "cadres": ["赵区长"]}]


def test_overdue_counted_per_grid(world):
    engine = get_engine(world.url)
    record(engine, entry=_entry(world, entry_date=dt.date(2026, 11, 2)), case=_case(),
           actor="t", today=dt.date(2026, 11, 2))
    later = dt.date(2026, 11, 20)  # 3 working days from Mon 2 Nov ended Thu 5 Nov
    page = mine.start_page(engine, scope=Scope.town(world.town_id), today=later)
    assert [(g.code, g.open_cases, g.overdue) for g in page.grids] == [("G01", 0, 0),
                                                                       ("G02", 1, 1)]
    assert bool(page.backlog["overdue"].iloc[0])


def test_paired_households_are_masked_for_masked_roles(world):
    planner = viewer_for("planner", world.url)  # district-wide, sees records masked
    frame = mine.paired_households(get_engine(world.url), scope=planner.scope())
    assert frame[["head_name", "address", "cadres"]].to_dict("records") == [
        {"head_name": "张*", "address": "清河村***", "cadres": ["赵**"]}]


def test_last_entry_presets_the_form_from_the_accounts_latest_entry(world):
    engine = get_engine(world.url)
    viewer = viewer_for("grid_cadre", world.url)  # placed in the world's first grid, G01
    scope = viewer.scope()
    assert mine.last_entry(engine, scope=scope, grid_id=world.other_grid_id) is None
    entry = _entry(world, grid_id=world.other_grid_id, household_id=None)
    record(engine, entry=entry, actor=viewer.label, today=TODAY, scope=scope)
    record(engine, entry=NewEntry(**(entry.__dict__ | {"kind": "risk", "source": "reception"})),
           actor=viewer.label, today=TODAY, scope=scope)
    assert mine.last_entry(engine, scope=scope, grid_id=world.other_grid_id) == {
        "cadre_id": world.cadre_id, "kind": "risk", "source": "reception"}
    assert mine.last_entry(engine, scope=Scope.district(), grid_id=world.other_grid_id) is None


def test_household_picker_lists_special_households_first(world):
    engine = get_engine(world.url)
    with session_scope(engine) as s:
        s.execute(update(Household).where(Household.code == "H3").values(tags="dibao"))
    labels = [label for _, label in household_choices(engine, scope=Scope.district(),
                                                      grid_id=world.grid_id)]
    assert [label.split(" · ")[-1] for label in labels] == ["H3", "H1"]
