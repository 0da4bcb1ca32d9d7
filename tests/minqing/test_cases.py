"""The four-track state machine: every refusal, the append-only history, the concurrency guard."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from minqing import cases
from minqing.casebook import case_history, open_cases
from minqing.cases import Action, NewCase, act, open_case
from minqing.errors import ConflictError, InputError, RuleError
from minqing.models import Case, CaseEvent
from minqing.scope import Scope
from minqing.store import get_engine, session_factory, session_scope
from tests.world import World, build_world

TODAY = dt.date(2026, 11, 20)  # a Friday
ALL = Scope.district()


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def _open(world: World, **overrides) -> Case:
    fields = {"grid_id": world.grid_id, "title": "路灯不亮", "track": "immediate",
              "responsible": "李干部", "household_id": world.household_id}
    fields.update(overrides)
    with session_scope(get_engine(world.url)) as s:
        return open_case(s, new=NewCase(**fields), actor="李干部", today=TODAY)


def _do(world: World, case: Case, action: str, **fields) -> Case:
    """Apply ``action`` to the latest version of ``case`` (read fresh, as a page would)."""
    with session_scope(get_engine(world.url)) as s:
        version = s.get(Case, case.id).version
    return act(get_engine(world.url), case_id=case.id, version=version, action=action,
               actor="李干部", today=TODAY, **fields)


def _events(world: World, case_id: int) -> list[CaseEvent]:
    with session_scope(get_engine(world.url)) as s:
        return list(s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                              .order_by(CaseEvent.id)))


def _walk_to_closed(world: World, case: Case) -> Case:
    case = _do(world, case, "start")
    case = _do(world, case, "result", result="已修复路灯")
    case = _do(world, case, "feedback", satisfaction="satisfied", feedback="电话告知")
    return _do(world, case, "close")


# --- opening ------------------------------------------------------------------------------------


def test_opening_sets_track_deadline_and_one_event(world):
    case = _open(world)
    assert case.status == "registered"
    assert case.deadline == dt.date(2026, 11, 25)  # 3 working days after a Friday
    assert case.town_id == world.town_id
    (event,) = _events(world, case.id)
    assert (event.action, event.from_status, event.to_status) == ("open", None, "registered")
    assert json.loads(event.data)["track"] == [None, "immediate"]


def test_promised_case_needs_a_date(world):
    with pytest.raises(RuleError) as err:
        _open(world, track="promised")
    assert err.value.key == "case.error.promised_date_required"
    assert err.value.field == "promised"
    assert "承诺" in err.value.message("zh")


def test_promised_date_cannot_be_in_the_past(world):
    with pytest.raises(RuleError) as err:
        _open(world, track="promised", promised=TODAY - dt.timedelta(days=1))
    assert err.value.key == "case.error.promised_date_past"


def test_promised_case_is_due_on_the_promised_date(world):
    case = _open(world, track="promised", promised=dt.date(2026, 12, 31))
    assert case.deadline == dt.date(2026, 12, 31)


def test_liaison_case_needs_a_department_and_gets_a_letter_number(world):
    with pytest.raises(RuleError) as err:
        _open(world, track="liaison", department="  ")
    assert err.value.key == "case.error.department_required"
    case = _open(world, track="liaison", department="区住建局")
    assert case.department == "区住建局"
    assert case.letter_no
    assert "2026" in case.letter_no


def test_blank_title_is_refused_naming_the_field(world):
    with pytest.raises(InputError) as err:
        _open(world, title="   ")
    assert err.value.field == "title"
    assert "事项内容" in err.value.message("zh")
    assert "Case title" in err.value.message("en")


def test_household_from_another_grid_is_refused(world):
    with pytest.raises(RuleError) as err:
        _open(world, household_id=world.other_household_id)
    assert err.value.key == "case.error.household_other_grid"


def test_refused_opening_writes_nothing(world):
    with pytest.raises(RuleError):
        _open(world, track="liaison")
    with session_scope(get_engine(world.url)) as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0
        assert s.scalar(select(func.count()).select_from(CaseEvent)) == 0


# --- moves --------------------------------------------------------------------------------------


def test_full_walk_to_closed_and_out_of_the_backlog(world):
    case = _open(world)
    assert open_cases(get_engine(world.url), scope=ALL, today=TODAY)["id"].tolist() == [case.id]
    closed = _walk_to_closed(world, case)
    assert closed.status == "closed"
    assert closed.closed_on == TODAY
    assert open_cases(get_engine(world.url), scope=ALL, today=TODAY).empty


def test_cannot_close_without_feedback(world):
    case = _do(world, _open(world), "start")
    case = _do(world, case, "result", result="已处理")
    with pytest.raises(RuleError) as err:
        _do(world, case, "close")
    assert err.value.key == "case.error.no_feedback"


def test_cannot_close_straight_from_registration(world):
    with pytest.raises(RuleError) as err:
        _do(world, _open(world), "close")
    assert err.value.key == "case.error.no_feedback"


def test_cannot_close_over_an_unsatisfied_resident(world):
    case = _do(world, _open(world), "start")
    case = _do(world, case, "result", result="已处理")
    case = _do(world, case, "feedback", satisfaction="unsatisfied")
    with pytest.raises(RuleError) as err:
        _do(world, case, "close")
    assert err.value.key == "case.error.unsatisfied"
    reopened = _do(world, case, "reopen", comment="群众不满意，重新办理")
    assert reopened.status == "handling"
    assert reopened.satisfaction is None


def test_feedback_needs_a_satisfaction(world):
    case = _do(world, _do(world, _open(world), "start"), "result", result="已处理")
    with pytest.raises(InputError) as err:
        _do(world, case, "feedback", satisfaction=None)
    assert err.value.field == "satisfaction"


def test_result_needs_text(world):
    with pytest.raises(InputError) as err:
        _do(world, _do(world, _open(world), "start"), "result", result="")
    assert err.value.field == "result"


def test_result_cannot_be_recorded_before_handling(world):
    with pytest.raises(RuleError) as err:
        _do(world, _open(world), "result", result="已处理")
    assert err.value.key == "case.error.transition"
    assert "已登记" in err.value.message("zh")


def test_liaison_result_needs_the_department_reply(world):
    case = _do(world, _open(world, track="liaison", department="区水务局"), "start")
    with pytest.raises(RuleError) as err:
        _do(world, case, "result", result="已处理")
    assert err.value.key == "case.error.reply_required"
    case = _do(world, case, "letter_reply", letter_reply="明年春季纳入改造计划")
    case = _do(world, case, "explain", explanation="已向群众说明明年春季施工")
    case = _do(world, case, "result", result="已纳入计划并解释")
    assert (case.status, case.letter_reply, case.explanation) == (
        "result", "明年春季纳入改造计划", "已向群众说明明年春季施工")


def test_reply_and_explanation_are_for_liaison_cases_only(world):
    case = _open(world)
    with pytest.raises(RuleError) as err:
        _do(world, case, "letter_reply", letter_reply="x")
    assert err.value.key == "case.error.not_liaison"


def test_escalation_needs_a_reason_and_consultation_assigns_leader_and_deadline(world):
    case = _open(world)
    with pytest.raises(InputError) as err:
        _do(world, case, "escalate", comment=" ")
    assert err.value.field == "reason"
    case = _do(world, case, "escalate", comment="涉及多个部门")
    assert case.status == "consultation"
    with pytest.raises(InputError) as err:
        _do(world, case, "assign", leader="", deadline=dt.date(2026, 12, 10))
    assert err.value.field == "leader"
    with pytest.raises(RuleError) as err:
        _do(world, case, "assign", leader="陈镇长", deadline=TODAY - dt.timedelta(days=1))
    assert err.value.key == "case.error.date_past"
    case = _do(world, case, "assign", leader="陈镇长", deadline=dt.date(2026, 12, 10))
    assert (case.status, case.leader, case.deadline) == ("handling", "陈镇长", dt.date(2026, 12, 10))


def test_closed_case_refuses_everything_but_reopen_and_notes(world):
    case = _walk_to_closed(world, _open(world))
    for action, fields in [("start", {}), ("escalate", {"comment": "x"}),
                           ("green_channel", {"leader": "赵区长"}),
                           ("reassign", {"responsible": "王五"})]:
        with pytest.raises(RuleError) as err:
            _do(world, case, action, **fields)
        assert err.value.key == "case.error.closed", action
    case = _do(world, case, "note", comment="回访满意")
    assert case.status == "closed"
    with pytest.raises(InputError):
        _do(world, case, "reopen", comment="")
    case = _do(world, case, "reopen", comment="问题复发")
    assert (case.status, case.closed_on) == ("handling", None)
    assert case.deadline == dt.date(2026, 11, 25)


def test_reopening_a_promised_case_needs_a_new_date(world):
    case = _open(world, track="promised", promised=dt.date(2026, 12, 1))
    case = _walk_to_closed(world, case)
    with pytest.raises(RuleError) as err:
        _do(world, case, "reopen", comment="复发")
    assert err.value.key == "case.error.promised_date_required"


def test_change_track_applies_the_new_tracks_rules(world):
    case = _open(world)
    with pytest.raises(RuleError) as err:
        _do(world, case, "change_track", track="immediate")
    assert err.value.key == "case.error.same_track"
    with pytest.raises(RuleError) as err:
        _do(world, case, "change_track", track="liaison")
    assert err.value.key == "case.error.department_required"
    case = _do(world, case, "change_track", track="supervised")
    assert case.deadline == dt.date(2026, 12, 4)  # 10 working days after a Friday


def test_green_channel_needs_a_leader_and_is_marked_in_the_backlog(world):
    case = _open(world)
    with pytest.raises(InputError):
        _do(world, case, "green_channel", leader="")
    case = _do(world, case, "green_channel", leader="赵区长")
    with pytest.raises(RuleError) as err:
        _do(world, case, "green_channel", leader="赵区长")
    assert err.value.key == "case.error.already_green"
    row = open_cases(get_engine(world.url), scope=ALL, today=TODAY).iloc[0]
    assert bool(row["green_channel"])
    assert row["leader"] == "赵区长"


def test_reassign_refuses_the_same_person(world):
    with pytest.raises(RuleError) as err:
        _do(world, _open(world), "reassign", responsible="李干部")
    assert err.value.key == "case.error.same_responsible"


def test_actor_is_required(world):
    case = _open(world)
    with pytest.raises(InputError) as err:
        act(get_engine(world.url), case_id=case.id, version=case.version, action="start",
            actor=" ", today=TODAY)
    assert err.value.field == "actor"


def test_available_actions_match_the_rules():
    offered = cases.available_actions("registered", "immediate")
    assert Action.START in offered
    assert Action.CLOSE not in offered
    assert Action.LETTER_REPLY not in offered
    assert Action.LETTER_REPLY in cases.available_actions("handling", "liaison")
    assert cases.available_actions("closed", "immediate") == [Action.REOPEN, Action.NOTE]
    assert Action.GREEN_CHANNEL not in cases.available_actions("handling", "promised", True)


# --- history ------------------------------------------------------------------------------------


def test_history_is_complete_and_append_only(world):
    case = _open(world)
    _walk_to_closed(world, case)
    events = _events(world, case.id)
    assert [e.action for e in events] == ["open", "start", "result", "feedback", "close"]
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "registered"), ("registered", "handling"), ("handling", "result"),
        ("result", "feedback"), ("feedback", "closed")]
    assert all(e.actor == "李干部" for e in events)
    assert json.loads(events[2].data)["result"] == [None, "已修复路灯"]
    assert json.loads(events[4].data)["closed_on"] == [None, TODAY.isoformat()]
    before = [(e.id, e.at, e.action, e.data) for e in events]
    _do(world, case, "reopen", comment="复发")
    after = _events(world, case.id)
    assert [(e.id, e.at, e.action, e.data) for e in after[:5]] == before
    assert after[5].action == "reopen"
    assert after[5].comment == "复发"


def test_every_field_change_is_in_some_event(world):
    """Replaying the events' changed fields rebuilds the case as stored: nothing changed silently."""
    case = _open(world, track="liaison", department="区住建局")
    for action, fields in [("start", {}), ("reassign", {"responsible": "王五"}),
                           ("green_channel", {"leader": "赵区长"}),
                           ("letter_reply", {"letter_reply": "同意"}), ("result", {"result": "完成"}),
                           ("feedback", {"satisfaction": "satisfied"}), ("close", {})]:
        case = _do(world, case, action, **fields)
    state: dict[str, object] = {}
    for event in _events(world, case.id):
        for name, (_old, new) in json.loads(event.data).items():
            state[name] = new
    for name in cases._TRACKED_FIELDS:
        value = getattr(case, name)
        assert state.get(name) == (value.isoformat() if isinstance(value, dt.date) else value), name


def test_history_query_decodes_changes_in_order(world):
    case = _walk_to_closed(world, _open(world))
    history = case_history(get_engine(world.url), scope=ALL, case_id=case.id)
    assert [h["action"] for h in history] == ["open", "start", "result", "feedback", "close"]
    assert history[3]["changes"]["satisfaction"] == [None, "satisfied"]
    assert case_history(get_engine(world.url), scope=Scope.grid(world.other_grid_id),
                        case_id=case.id) == []


# --- concurrency --------------------------------------------------------------------------------


def test_second_save_with_a_stale_version_is_refused(world):
    case = _open(world)
    engine = get_engine(world.url)
    read_version = case.version
    act(engine, case_id=case.id, version=read_version, action="start", actor="甲", today=TODAY)
    with pytest.raises(ConflictError) as err:
        act(engine, case_id=case.id, version=read_version, action="escalate", actor="乙",
            comment="second", today=TODAY)
    assert case.code in err.value.message("zh")
    assert [e.action for e in _events(world, case.id)] == ["open", "start"]
    with session_scope(engine) as s:
        assert s.get(Case, case.id).status == "handling"


def test_two_sessions_racing_the_first_commit_wins(world):
    """Both sessions load the row at the same version; the slower flush is refused."""
    case = _open(world)
    factory = session_factory(get_engine(world.url))
    first, second = factory(), factory()
    try:
        version = first.get(Case, case.id).version
        assert second.get(Case, case.id).version == version
        cases.apply(first, case_id=case.id, version=version, action="start", actor="甲",
                    today=TODAY)
        first.commit()
        with pytest.raises(ConflictError):
            cases.apply(second, case_id=case.id, version=version, action="escalate", actor="乙",
                        comment="同时保存", today=TODAY)
        second.rollback()
    finally:
        first.close()
        second.close()
    events = _events(world, case.id)
    assert [e.action for e in events] == ["open", "start"]


def test_writes_outside_the_callers_scope_are_refused(world):
    from minqing.errors import NotFoundError

    case = _open(world)
    with pytest.raises(NotFoundError):
        act(get_engine(world.url), case_id=case.id, version=case.version, action="start",
            actor="李", today=TODAY, scope=Scope.grid(world.other_grid_id))
    with session_scope(get_engine(world.url)) as s, pytest.raises(NotFoundError):
        open_case(s, new=NewCase(grid_id=world.grid_id, title="x", track="immediate",
                                 responsible="李"), actor="李", today=TODAY,
                  scope=Scope.grid(world.other_grid_id))


def test_unknown_action_is_refused_naming_it(world):
    case = _open(world)
    with pytest.raises(InputError) as err:
        _do(world, case, "teleport")
    assert "teleport" in err.value.message("en")
