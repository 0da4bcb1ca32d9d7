"""Field limits: every declared text field of every case action (and the opening, the actor and
the diary's fields) is refused one character over its limit, naming the field, and stored intact
at the limit, the same on SQLite and PostgreSQL (which would otherwise reject the row itself)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing.cases import ACTIONS, NewCase, act, max_length, max_length_of, open_case
from minqing.diary import MAX_COUNT, MAX_TEXT, NewEntry, record
from minqing.errors import InputError
from minqing.models import Case, CaseEvent, DiaryEntry
from minqing.store import get_engine, session_scope
from tests.world import World, build_world

TODAY = dt.date(2026, 11, 20)
LATER = TODAY + dt.timedelta(days=20)
# The limits as the model declares them, written out by hand: a change to a column shows here.
EXPECTED = {"title": 200, "responsible": 64, "department": 64, "leader": 64, "letter_no": 32}


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def test_declared_limits_are_the_columns():
    assert {name: max_length(name) for name in EXPECTED} == EXPECTED
    assert max_length_of(CaseEvent, "actor") == 64
    limited = {f.name for spec in ACTIONS.values() for f in spec.fields
               if f.widget in ("text", "long_text") and f.max_len}
    assert limited == {"title", "responsible", "department", "leader"}


def _new(world: World, **fields) -> NewCase:
    base = {"grid_id": world.grid_id, "title": "路灯不亮", "track": "liaison",
            "responsible": "李干部", "department": "住建局", "leader": None}
    return NewCase(**(base | fields))


def _open(world: World, **fields) -> Case:
    with session_scope(get_engine(world.url)) as s:
        return open_case(s, new=_new(world, **fields), actor="李干部", today=TODAY)


@pytest.mark.parametrize("name", ["title", "responsible", "department", "leader", "letter_no"])
def test_opening_fields_over_the_limit_are_refused_and_at_the_limit_kept(world, name):
    limit = EXPECTED[name]
    with pytest.raises(InputError) as err:
        _open(world, **{name: "长" * (limit + 1)})
    assert err.value.field == name
    assert str(limit) in err.value.message("zh")
    case = _open(world, **{name: "长" * limit})
    with session_scope(get_engine(world.url)) as s:
        assert getattr(s.get(Case, case.id), name) == "长" * limit


def test_the_actor_is_limited_too(world):
    case = _open(world)
    with pytest.raises(InputError) as err:
        act(get_engine(world.url), case_id=case.id, version=case.version, action="start",
            actor="甲" * 65, today=TODAY)
    assert err.value.field == "actor"
    act(get_engine(world.url), case_id=case.id, version=case.version, action="start",
        actor="甲" * 64, today=TODAY)


@pytest.mark.parametrize(("action", "name", "walk"), [
    ("assign", "leader", [("escalate", {"comment": "疑难"})]),
    ("green_channel", "leader", []),
    ("reassign", "responsible", []),
    ("change_track", "department", []),
])
def test_action_fields_over_the_limit_are_refused_and_at_the_limit_kept(world, action, name,
                                                                       walk):
    case = _open(world, track="immediate", department=None)
    engine = get_engine(world.url)
    version = case.version
    for step, fields in walk:
        version = act(engine, case_id=case.id, version=version, action=step, actor="甲",
                      today=TODAY, **fields).version
    inputs = {"deadline": LATER} if action == "assign" else {}
    if action == "change_track":
        inputs = {"track": "liaison"}
    limit = EXPECTED[name]
    with pytest.raises(InputError) as err:
        act(engine, case_id=case.id, version=version, action=action, actor="甲", today=TODAY,
            **inputs, **{name: "长" * (limit + 1)})
    assert err.value.field == name
    act(engine, case_id=case.id, version=version, action=action, actor="甲", today=TODAY,
        **inputs, **{name: "长" * limit})
    with session_scope(engine) as s:
        assert getattr(s.get(Case, case.id), name) == "长" * limit


def _entry(world: World, **fields) -> NewEntry:
    base = {"grid_id": world.grid_id, "cadre_id": world.cadre_id, "entry_date": TODAY,
            "kind": "demand", "source": "house_call", "text": "村口路灯坏了"}
    return NewEntry(**(base | fields))


def test_diary_text_and_counts_are_limited(world):
    engine = get_engine(world.url)
    with pytest.raises(InputError) as err:
        record(engine, entry=_entry(world, text="字" * (MAX_TEXT + 1)), actor="李干部")
    assert err.value.field == "text"
    for name in ("people_received", "opinions_taken"):
        counts = {"people_received": 3, "opinions_taken": 2, name: MAX_COUNT + 1}
        with pytest.raises(InputError) as err:
            record(engine, entry=_entry(world, source="deputies", **counts), actor="李干部")
        assert err.value.field == name
        assert str(MAX_COUNT) in err.value.message("en")
    record(engine, entry=_entry(world, text="字" * MAX_TEXT, source="deputies",
                                people_received=MAX_COUNT, opinions_taken=MAX_COUNT),
           actor="李干部")
    with session_scope(engine) as s:
        row = s.scalars(select(DiaryEntry).order_by(DiaryEntry.id.desc())).first()
        assert (len(row.text), row.people_received) == (MAX_TEXT, MAX_COUNT)


def test_bidi_controls_are_removed_on_input(world):
    case = _open(world, title="\u202e路灯不亮\u202c", leader="王\u2066书记")
    assert (case.title, case.leader) == ("路灯不亮", "王书记")
    entry_id, _ = record(get_engine(world.url), entry=_entry(world, text="\u202eabc"), actor="甲")
    with session_scope(get_engine(world.url)) as s:
        assert s.get(DiaryEntry, entry_id).text == "abc"
