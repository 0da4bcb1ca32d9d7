"""The service diary: validation naming the field, "turn into a case" in one transaction,
deputies' reception counts, and the filtered timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from minqing.cases import NewCase
from minqing.diary import NewEntry, TimelineFilter, record, timeline
from minqing.errors import InputError, RuleError
from minqing.models import Case, CaseEvent, DiaryEntry
from minqing.scope import Scope
from minqing.store import get_engine, session_scope
from tests.world import World, build_world

TODAY = dt.date(2026, 11, 20)
ALL = Scope.district()


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def _entry(world: World, **overrides) -> NewEntry:
    fields = {"grid_id": world.grid_id, "cadre_id": world.cadre_id, "entry_date": TODAY,
              "kind": "demand", "source": "house_call", "text": "村口路灯坏了",
              "household_id": world.household_id}
    fields.update(overrides)
    return NewEntry(**fields)


def _count(world: World, model) -> int:
    with session_scope(get_engine(world.url)) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_entry_without_a_case(world):
    entry_id, case_id = record(get_engine(world.url), entry=_entry(world), actor="李干部",
                               today=TODAY)
    assert case_id is None
    frame = timeline(get_engine(world.url), scope=ALL, grid_id=world.grid_id)
    assert frame["id"].tolist() == [entry_id]
    assert frame.iloc[0]["cadre"] == "李干部"
    assert frame.iloc[0]["household"] == "张1"


def test_turn_into_a_case_in_the_same_step(world):
    case = NewCase(grid_id=0, title="修路灯", track="immediate", responsible="李干部")
    entry_id, case_id = record(get_engine(world.url), entry=_entry(world, kind="risk"), case=case,
                               actor="李干部", today=TODAY)
    with session_scope(get_engine(world.url)) as s:
        opened = s.get(Case, case_id)
        assert (opened.diary_entry_id, opened.grid_id, opened.household_id) == (
            entry_id, world.grid_id, world.household_id)
        assert opened.is_risk  # a dispute/risk entry makes a risk case
        assert s.scalar(select(func.count()).where(CaseEvent.case_id == case_id)) == 1
    row = timeline(get_engine(world.url), scope=ALL, grid_id=world.grid_id).iloc[0]
    assert row["case_id"] == case_id
    assert row["case_status"] == "registered"


def test_a_refused_case_leaves_no_entry_behind(world):
    case = NewCase(grid_id=0, title="修路", track="promised", responsible="李干部")
    with pytest.raises(RuleError) as err:
        record(get_engine(world.url), entry=_entry(world), case=case, actor="李干部", today=TODAY)
    assert err.value.field == "promised"
    assert _count(world, DiaryEntry) == 0
    assert _count(world, Case) == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"text": "  "}, "text"),
        ({"entry_date": TODAY + dt.timedelta(days=1)}, "entry_date"),
        ({"kind": "gossip"}, "kind"),
        ({"source": "rumour"}, "source"),
        ({"risk_level": 7}, "risk_level"),
        ({"source": "deputies", "people_received": None, "opinions_taken": 3}, "people_received"),
        ({"source": "deputies", "people_received": 12, "opinions_taken": None}, "opinions_taken"),
        ({"source": "deputies", "people_received": -1, "opinions_taken": 0}, "people_received"),
    ],
)
def test_bad_input_names_the_field(world, overrides, field):
    with pytest.raises(InputError) as err:
        record(get_engine(world.url), entry=_entry(world, **overrides), actor="李干部", today=TODAY)
    assert err.value.field == field
    assert err.value.message("en").count("“") == 1
    assert _count(world, DiaryEntry) == 0


def test_household_must_be_in_the_grid(world):
    with pytest.raises(RuleError) as err:
        record(get_engine(world.url), entry=_entry(world, household_id=world.other_household_id),
               actor="李干部", today=TODAY)
    assert err.value.field == "household_id"


def test_deputies_reception_keeps_its_counts_and_others_drop_them(world):
    engine = get_engine(world.url)
    record(engine, entry=_entry(world, source="deputies", people_received=35, opinions_taken=12,
                                household_id=None), actor="李干部", today=TODAY)
    record(engine, entry=_entry(world, people_received=99, opinions_taken=99), actor="李干部",
           today=TODAY)
    frame = timeline(engine, scope=ALL, grid_id=world.grid_id).set_index("source")
    assert frame.loc["deputies", "people_received"] == 35
    assert frame.loc["deputies", "opinions_taken"] == 12
    assert frame["people_received"].isna().sum() == 1


def test_timeline_filters_by_kind_source_and_dates(world):
    engine = get_engine(world.url)
    specs = [("demand", "reception", TODAY), ("risk", "house_call", TODAY - dt.timedelta(days=10)),
             ("development", "mailbox", TODAY - dt.timedelta(days=40))]
    for kind, source, day in specs:
        record(engine, entry=_entry(world, kind=kind, source=source, entry_date=day),
               actor="李干部", today=TODAY)

    def kinds(**f) -> list[str]:
        return timeline(engine, scope=ALL, grid_id=world.grid_id,
                        filters=TimelineFilter(**f))["kind"].tolist()

    assert kinds() == ["demand", "risk", "development"]  # newest first
    assert kinds(kinds=("risk",)) == ["risk"]
    assert kinds(sources=("mailbox", "reception")) == ["demand", "development"]
    assert kinds(since=TODAY - dt.timedelta(days=30)) == ["demand", "risk"]
    assert kinds(until=TODAY - dt.timedelta(days=5)) == ["risk", "development"]


def test_timeline_respects_scope(world):
    engine = get_engine(world.url)
    record(engine, entry=_entry(world), actor="李干部", today=TODAY)
    assert len(timeline(engine, scope=Scope.grid(world.grid_id))) == 1
    assert timeline(engine, scope=Scope.grid(world.other_grid_id)).empty
