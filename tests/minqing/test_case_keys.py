"""Idempotent case updates: a submission carrying a key that already appended its event (a double
tap, a resend after a reconnect) applies nothing and appends nothing, on both stores, also when
two copies race; a refused submission leaves its key unused. And the quick update's actions: the
declared field work only, the next move along the main line first."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from minqing.cases import ACTIONS, NewCase, act, open_case, quick_actions
from minqing.errors import ConflictError, InputError
from minqing.models import Case, CaseEvent
from minqing.store import get_engine, session_scope
from tests.world import World, build_world

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def _case(world: World, *moves: tuple[str, dict]) -> tuple[int, int]:
    """(id, version) of an immediate case moved by ``moves``."""
    engine = get_engine(world.url)
    with session_scope(engine) as s:
        case = open_case(s, new=NewCase(grid_id=world.grid_id, title="路灯不亮", track="immediate",
                                        responsible="李干部"), actor="李干部", today=TODAY)
        case_id, version = case.id, case.version
    for action, fields in moves:
        version = act(engine, case_id=case_id, version=version, action=action, actor="李干部",
                      today=TODAY, **fields).version
    return case_id, version


def _events(world: World, case_id: int, action: str | None = None) -> int:
    stmt = select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)
    if action:
        stmt = stmt.where(CaseEvent.action == action)
    with session_scope(get_engine(world.url)) as s:
        return s.scalar(stmt)


def _send(world: World, case_id: int, version: int, action: str, key: str | None,
          **fields) -> Case:
    return act(get_engine(world.url), case_id=case_id, version=version, action=action,
               actor="李干部", today=TODAY, key=key, **fields)


def test_a_repeated_move_applies_once(world):
    case_id, version = _case(world, ("start", {}))
    first = _send(world, case_id, version, "result", "k-1", result="已修好")
    again = _send(world, case_id, version, "result", "k-1", result="已修好")
    assert (again.status, again.version) == (first.status, first.version) == ("result", version + 1)
    assert _events(world, case_id, "result") == 1
    with session_scope(get_engine(world.url)) as s:
        assert s.scalar(select(CaseEvent.event_key).where(CaseEvent.case_id == case_id,
                                                          CaseEvent.action == "result")) == "k-1"


def test_a_repeated_note_is_one_note(world):
    """A note keeps the version, so without the key the repeat would be a second note."""
    case_id, version = _case(world, ("start", {}))
    for _ in range(3):
        _send(world, case_id, version, "note", "k-note", comment="已电话联系供电所")
    assert _events(world, case_id, "note") == 1


def test_a_repeat_after_the_case_moved_on_is_still_no_conflict(world):
    """The resend arrives after someone else's update: it was applied before that update, so
    it is done, not refused."""
    case_id, version = _case(world, ("start", {}))
    after = _send(world, case_id, version, "result", "k-1", result="已修好").version
    _send(world, case_id, after, "feedback", "k-other", satisfaction="satisfied")
    again = _send(world, case_id, version, "result", "k-1", result="已修好")
    assert again.status == "feedback"
    assert _events(world, case_id) == 1 + 1 + 2


def test_other_keys_and_no_key_apply_each_time(world):
    case_id, version = _case(world, ("start", {}))
    for key in ("a", "b", None, None):
        _send(world, case_id, version, "note", key, comment="回访")
    assert _events(world, case_id, "note") == 4


def test_a_refused_submission_leaves_its_key_unused(world):
    case_id, version = _case(world, ("start", {}))
    with pytest.raises(InputError):
        _send(world, case_id, version, "result", "k-1", result="  ")
    assert _send(world, case_id, version, "result", "k-1", result="已修好").status == "result"
    assert _events(world, case_id, "result") == 1


def test_a_conflict_is_still_a_conflict(world):
    """Someone else's save between reading and saving is refused, key or not."""
    case_id, version = _case(world, ("start", {}))
    _send(world, case_id, version, "result", "theirs", result="已修好")
    with pytest.raises(ConflictError):
        _send(world, case_id, version, "reassign", "mine", responsible="王干部")
    assert _events(world, case_id, "reassign") == 0


def test_a_key_is_for_one_case_and_fits_its_column(world):
    case_id, version = _case(world)
    other_id, other_version = _case(world)
    _send(world, case_id, version, "note", "k-1", comment="回访")
    with pytest.raises(ValueError, match="another case"):
        _send(world, other_id, other_version, "note", "k-1", comment="回访")
    with pytest.raises(ValueError, match="idempotency key"):
        _send(world, case_id, version, "note", "x" * 65, comment="回访")
    assert _events(world, other_id) == 1


@pytest.mark.parametrize("action", ["result", "note"])
def test_two_racing_copies_of_one_submission_append_one_event(world, monkeypatch, action):
    """Both copies pass the key check on the same version, then save at the same moment: both
    come back as saved, and the history holds one event."""
    case_id, version = _case(world, ("start", {}))
    gate = threading.Barrier(2, timeout=10)
    waited: set[int] = set()
    spec = ACTIONS[action]

    def handler(case, *, _inner=spec.handler, **kw):
        if threading.get_ident() not in waited:  # only the first attempt of each thread
            waited.add(threading.get_ident())
            gate.wait()
        _inner(case, **kw)

    monkeypatch.setitem(ACTIONS, action, dataclasses.replace(spec, handler=handler))
    fields = {"result": {"result": "已修好"}, "note": {"comment": "回访"}}[action]
    outcomes: list[object] = [None, None]

    def run(i: int) -> None:
        try:
            outcomes[i] = _send(world, case_id, version, action, "k-race", **fields)
        except Exception as exc:  # the assertion below shows what it was
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(isinstance(o, Case) for o in outcomes), outcomes
    assert _events(world, case_id, action) == 1


def test_the_quick_update_offers_field_work_next_move_first_then_a_note():
    assert quick_actions("registered", "immediate") == ["start", "note"]
    assert quick_actions("handling", "immediate") == ["result", "note"]
    assert quick_actions("result", "immediate") == ["feedback", "note", "reopen"]
    assert quick_actions("feedback", "immediate") == ["close", "note", "reopen"]
    assert quick_actions("handling", "liaison") == ["result", "note", "letter_reply"]
    assert quick_actions("consultation", "immediate") == ["note"]
    assert quick_actions("closed", "immediate") == ["note", "reopen"]  # nothing ahead
    assert all(ACTIONS[a].quick and not ACTIONS[a].meeting
               for status in ("registered", "handling", "result", "feedback", "closed")
               for a in quick_actions(status, "liaison", True))
