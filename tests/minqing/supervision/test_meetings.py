"""Consultation and follow-up agendas (what puts a case on them), decisions written as case
events in one transaction, minutes, past meetings and rectification tracking."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from minqing.errors import ConflictError, RuleError
from minqing.models import Case, CaseEvent, MeetingItem
from minqing.scope import Scope
from minqing.store import get_engine, session_scope
from minqing.supervision import meetings
from tests.conftest import AS_OF
from tests.minqing.supervision.conftest import add_case, add_entry

ALL = Scope.district()
D = dt.timedelta(days=1)
EXT = {"deadline": ["2026-11-01", "2026-11-10"]}


def _consultation_world(world):
    high = add_entry(world, day=AS_OF - 30 * D, risk_level=3, kind="risk")
    mid = add_entry(world, day=AS_OF - 30 * D, risk_level=2, kind="risk")
    return {
        "escalated": add_case(world, "C1", status="consultation", deadline=AS_OF + 5 * D),
        "overdue": add_case(world, "C2", deadline=AS_OF - 3 * D),
        "due_today": add_case(world, "C3", deadline=AS_OF),  # not overdue: due today
        "reopened_twice": add_case(world, "C4", deadline=AS_OF + 9 * D,
                                   events=(("reopen", {}), ("reopen", {}))),
        "reopened_once": add_case(world, "C5", deadline=AS_OF + 9 * D, events=(("reopen", {}),)),
        "extended_twice": add_case(world, "C6", deadline=AS_OF + 9 * D,
                                   events=(("assign", EXT), ("extend", EXT))),
        "decided_no_deadline": add_case(world, "C7", deadline=AS_OF + 9 * D,
                                        events=(("decide", {"leader": [None, "王"]}),
                                                ("assign", EXT))),
        "high_risk": add_case(world, "C8", deadline=AS_OF + 9 * D, is_risk=True, entry_id=high),
        "mid_risk": add_case(world, "C9", deadline=AS_OF + 9 * D, is_risk=True, entry_id=mid),
        "green": add_case(world, "C10", deadline=AS_OF + 9 * D, green=True),
        "closed_overdue": add_case(world, "C11", status="closed", deadline=AS_OF - 9 * D,
                                   closed_on=AS_OF - D, green=True),
    }


def test_consultation_agenda_membership_and_reasons(world):
    ids = _consultation_world(world)
    table = meetings.agenda(get_engine(world.url), scope=ALL, kind="consultation",
                            town_id=world.town_id, today=AS_OF)
    got = dict(zip(table["case_id"], table["reasons"], strict=True))
    assert got == {
        ids["escalated"]: ["escalated"],
        ids["overdue"]: ["overdue"],
        ids["reopened_twice"]: ["reopened"],
        ids["extended_twice"]: ["extended"],
        ids["high_risk"]: ["high_risk"],
        ids["green"]: ["green"],
    }
    # ordered by the first reason: green, escalated, high risk, overdue, reopened, extended
    assert table["code"].tolist() == ["C10", "C1", "C8", "C2", "C4", "C6"]
    assert table.loc[table["code"] == "C2", "days_left"].item() == -3


def test_other_town_and_scope_are_left_out(world):
    _consultation_world(world)
    engine = get_engine(world.url)
    assert meetings.agenda(engine, scope=ALL, kind="consultation", town_id=world.town_id + 1,
                           today=AS_OF).empty
    other_grid = meetings.agenda(engine, scope=Scope.grid(world.other_grid_id),
                                 kind="consultation", town_id=world.town_id, today=AS_OF)
    assert other_grid.empty


def _start(world, kind="consultation", **place):
    place = place or {"town_id": world.town_id}
    return meetings.start_meeting(get_engine(world.url), scope=ALL, kind=kind, held_on=AS_OF,
                                  chair="镇党委书记", attendees="书记、镇长、片长", actor="记录员",
                                  today=AS_OF, **place)


def test_decision_is_a_case_event_and_the_item_in_one_transaction(world):
    ids = _consultation_world(world)
    engine = get_engine(world.url)
    meeting_id = _start(world)
    written = meetings.record_decision(
        engine, scope=ALL, meeting_id=meeting_id, case_id=ids["escalated"], version=1,
        actor="记录员", comment="由副镇长包案，月底前办结", leader="钱副镇长",
        deadline=AS_OF + 10 * D, today=AS_OF)
    with session_scope(engine) as s:
        case = s.get(Case, ids["escalated"])
        decide, extend = (s.get(CaseEvent, i) for i in written)
        item = s.scalar(select(MeetingItem).where(MeetingItem.case_id == ids["escalated"]))
    assert (case.status, case.leader, case.deadline) == ("handling", "钱副镇长", AS_OF + 10 * D)
    assert (decide.action, decide.from_status, decide.to_status) == ("decide", "consultation",
                                                                     "handling")
    assert json.loads(decide.data)["leader"] == [None, "钱副镇长"]
    # the new deadline is its own event: the one the extension rate counts
    assert (extend.action, json.loads(extend.data)) == (
        "extend", {"deadline": ["2026-11-25", "2026-11-30"]})
    assert (item.event_id, item.last_event_id) == tuple(written)
    assert item.decision == "由副镇长包案，月底前办结"
    minutes = meetings.meeting_minutes(engine, scope=ALL, meeting_id=meeting_id)["items"]
    row = minutes[minutes["case_id"] == ids["escalated"]].iloc[0]
    assert row["action"] == "decide+extend"
    assert row["changes"] == {"leader": [None, "钱副镇长"],
                              "deadline": ["2026-11-25", "2026-11-30"]}
    with pytest.raises(RuleError):  # decided once per meeting
        meetings.record_decision(engine, scope=ALL, meeting_id=meeting_id,
                                 case_id=ids["escalated"], version=3, actor="记录员",
                                 leader="孙", today=AS_OF)


def test_track_change_to_liaison_needs_a_department_and_refusal_writes_nothing(world):
    ids = _consultation_world(world)
    engine = get_engine(world.url)
    meeting_id = _start(world)
    with pytest.raises(RuleError):
        meetings.record_decision(engine, scope=ALL, meeting_id=meeting_id,
                                 case_id=ids["overdue"], version=1, actor="记录员",
                                 track="liaison", today=AS_OF)
    with pytest.raises(ConflictError):  # a stale version: nothing is recorded
        meetings.record_decision(engine, scope=ALL, meeting_id=meeting_id,
                                 case_id=ids["overdue"], version=7, actor="记录员",
                                 leader="孙", today=AS_OF)
    with session_scope(engine) as s:
        item = s.scalar(select(MeetingItem).where(MeetingItem.case_id == ids["overdue"]))
        assert item.event_id is None
        assert s.get(Case, ids["overdue"]).track == "promised"
    meetings.record_decision(engine, scope=ALL, meeting_id=meeting_id, case_id=ids["overdue"],
                             version=1, actor="记录员", track="liaison", department="区住建局",
                             today=AS_OF)
    with session_scope(engine) as s:
        case = s.get(Case, ids["overdue"])
    # a liaison case is due 20 working days after the decision (2026-11-20, a Friday)
    assert (case.track, case.department, case.deadline) == ("liaison", "区住建局",
                                                            dt.date(2026, 12, 18))


def test_minutes_and_past_meetings(world):
    ids = _consultation_world(world)
    engine = get_engine(world.url)
    meeting_id = _start(world)
    meetings.record_decision(engine, scope=ALL, meeting_id=meeting_id, case_id=ids["green"],
                             version=1, actor="记录员", comment="区领导督办", today=AS_OF)
    minutes = meetings.meeting_minutes(engine, scope=ALL, meeting_id=meeting_id)
    assert minutes["meeting"]["chair"] == "镇党委书记"
    items = minutes["items"]
    assert len(items) == 6
    green = items[items["case_id"] == ids["green"]].iloc[0]
    assert (green["action"], green["decision"], green["reasons"]) == ("note", "区领导督办",
                                                                      ["green"])
    past = meetings.past_meetings(engine, scope=ALL, kind="consultation")
    assert past[["id", "items", "decided"]].values.tolist() == [[meeting_id, 6, 1]]
    assert meetings.meeting_minutes(engine, scope=Scope.town(world.town_id + 1),
                                    meeting_id=meeting_id) is None


def test_follow_up_agenda_and_rectification_tracking(world):
    engine = get_engine(world.url)
    late = add_case(world, "F1", deadline=AS_OF - 2 * D)
    soon = add_case(world, "F2", deadline=AS_OF + 3 * D)  # DUE_SOON_DAYS = 3: at risk
    add_case(world, "F3", deadline=AS_OF + 4 * D)  # not yet at risk
    missed = add_case(world, "F4", deadline=AS_OF + 30 * D, rectify_by=AS_OF - D)
    area_id = world_area(world)
    table = meetings.agenda(engine, scope=ALL, kind="follow_up", area_id=area_id, today=AS_OF)
    assert dict(zip(table["case_id"], table["reasons"], strict=True)) == {
        missed: ["rectify_missed"], late: ["late"], soon: ["at_risk"]}
    meeting_id = _start(world, kind="follow_up", area_id=area_id)
    meetings.record_rectification(engine, scope=ALL, meeting_id=meeting_id, case_id=late,
                                  version=1, actor="片长", criticism="逾期未办，提出批评",
                                  rectify_by=AS_OF + 5 * D, today=AS_OF)
    with session_scope(engine) as s:
        case = s.get(Case, late)
        event = s.scalars(select(CaseEvent).where(CaseEvent.case_id == late)
                          .order_by(CaseEvent.id.desc())).first()
    assert case.rectify_by == AS_OF + 5 * D
    assert case.deadline == AS_OF - 2 * D
    assert (event.action, event.comment) == ("rectify", "逾期未办，提出批评")
    tracked = meetings.rectifications(engine, scope=ALL, today=AS_OF)
    assert tracked[["case_id", "state"]].values.tolist() == [[late, "pending"]]
    # after the date: missed unless closed by then
    assert meetings.rectifications(engine, scope=ALL, today=AS_OF + 6 * D)["state"].tolist() == [
        "missed"]


def test_rectification_states():
    day = dt.date(2026, 11, 10)
    assert meetings.rectification_state(day, day, day + 5 * D) == "met"
    assert meetings.rectification_state(day, day + D, day + 5 * D) == "missed"
    assert meetings.rectification_state(day, None, day + D) == "missed"
    assert meetings.rectification_state(day, None, day) == "pending"


def world_area(world) -> int:
    from minqing.models import Grid

    with session_scope(get_engine(world.url)) as s:
        return s.get(Grid, world.grid_id).area_id
