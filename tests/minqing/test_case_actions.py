"""The case-action declaration: field limits from the columns, numbering, and adding an action
with one declaration."""

from __future__ import annotations

import datetime as dt

import pytest

from minqing import cases
from minqing.cases import ACTIONS, ActionSpec, Field, NewCase, act, open_case
from minqing.errors import InputError
from minqing.store import get_engine, session_scope
from minqing.vocab import CaseStatus
from tests.world import World, build_world

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def test_field_limits_come_from_the_columns():
    opening = {f.name: f for f in ACTIONS["open"].fields}
    # cases.title String(200), responsible/leader/department String(64) in minqing/models.py
    assert (opening["title"].max_len, opening["responsible"].max_len) == (200, 64)
    assert (opening["leader"].max_len, opening["department"].max_len) == (64, 64)
    assert opening["promised"].max_len is None  # a date, not a column of its own
    result = ACTIONS["result"].fields[0]
    assert (result.name, result.max_len) == ("result", None)  # Text: unlimited


def test_a_title_longer_than_its_column_is_refused(world):
    with session_scope(get_engine(world.url)) as s, pytest.raises(InputError) as err:
        open_case(s, new=NewCase(grid_id=world.grid_id, title="长" * 201, track="immediate",
                                 responsible="李"), actor="李", today=TODAY)
    assert (err.value.field, err.value.key) == ("title", "case.error.too_long")


def test_numbering():
    assert cases.case_code(dt.date(2026, 11, 20), 42) == "MQ261120-00002A"
    assert cases.letter_number(2027, 3) == "联系函〔2027〕3号"


def test_liaison_letters_are_numbered_through_the_year(world):
    numbers = []
    for day in (TODAY, TODAY, dt.date(2027, 1, 4)):
        with session_scope(get_engine(world.url)) as s:
            case = open_case(s, new=NewCase(grid_id=world.grid_id, title="桥", track="liaison",
                                            responsible="李", department="区交通局"),
                             actor="李", today=day)
            numbers.append(case.letter_no)
    assert numbers == ["联系函〔2026〕1号", "联系函〔2026〕2号", "联系函〔2027〕1号"]


def test_every_offered_action_has_a_handler_and_labels():
    from minqing.i18n import CATALOGUE

    for name, spec in ACTIONS.items():
        assert f"case.action.{name}" in CATALOGUE, name
        assert spec.offered == (spec.handler is not None), name
        for f in spec.fields:
            assert f"case.field.{f.name}" in CATALOGUE, (name, f.name)
        if spec.comment:
            assert f"case.field.{spec.comment}" in CATALOGUE


@pytest.fixture
def visit_action():
    """A new action declared in one place, as the supervision work will do."""
    def visit(case, *, today, comment, feedback=None):
        case.feedback = cases._text(feedback, "feedback")

    cases.declare("revisit", ActionSpec(visit, frozenset({CaseStatus.HANDLING}),
                                        fields=(Field("feedback"),)))
    yield "revisit"
    del ACTIONS["revisit"]


def test_one_declaration_adds_an_action(world, visit_action):
    with session_scope(get_engine(world.url)) as s:
        case = open_case(s, new=NewCase(grid_id=world.grid_id, title="t", track="immediate",
                                        responsible="李"), actor="李", today=TODAY)
    assert visit_action not in cases.available_actions("registered", "immediate")
    engine = get_engine(world.url)
    case = act(engine, case_id=case.id, version=case.version, action="start", actor="李")
    assert visit_action in cases.available_actions("handling", "immediate")
    case = act(engine, case_id=case.id, version=case.version, action=visit_action, actor="李",
               feedback="回访：已好转")
    assert (case.status, case.feedback) == ("handling", "回访：已好转")
    with pytest.raises(ValueError, match="twice"):
        cases.declare(visit_action, ACTIONS[visit_action])
