"""Two people acting on one case at once: for every pair of actions a case allows in a status,
the second save on the version both read is refused with the conflict error and writes nothing,
including when the first save removed the second's action; and a true race of two threads on the
same version ends the same way on both stores (never StaleDataError or PendingRollbackError)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from itertools import product

import pytest
from sqlalchemy import func, select

from minqing.cases import ACTIONS, NewCase, act, available_actions, open_case
from minqing.errors import ConflictError
from minqing.models import Case, CaseEvent
from minqing.store import get_engine, session_scope
from tests.world import World, build_world

TODAY = dt.date(2026, 11, 20)
LATER = TODAY + dt.timedelta(days=20)

#: How to walk a liaison case into each status (so the liaison-only actions are offered too).
WALK = {
    "registered": [],
    "handling": [("start", {}), ("letter_reply", {"letter_reply": "同意办理"})],
    "consultation": [("escalate", {"comment": "疑难"})],
    "result": [("start", {}), ("letter_reply", {"letter_reply": "同意办理"}),
               ("result", {"result": "已修好"})],
    "feedback": [("start", {}), ("letter_reply", {"letter_reply": "同意办理"}),
                 ("result", {"result": "已修好"}), ("feedback", {"satisfaction": "satisfied"})],
    "closed": [("start", {}), ("letter_reply", {"letter_reply": "同意办理"}),
               ("result", {"result": "已修好"}), ("feedback", {"satisfaction": "satisfied"}),
               ("close", {})],
}


def _inputs(action: str) -> dict[str, object]:
    """Valid input for every field the action declares, and its comment."""
    values = {"leader": "王书记", "deadline": LATER, "result": "已修好", "satisfaction": "satisfied",
              "feedback": "满意", "track": "immediate", "promised": LATER, "department": "住建局",
              "letter_reply": "已回复", "explanation": "已向群众解释", "responsible": "新责任人"}
    spec = ACTIONS[action]
    return {f.name: values[f.name] for f in spec.fields} | {"comment": "理由"}


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def _case_in(world: World, status: str) -> tuple[int, int]:
    engine = get_engine(world.url)
    with session_scope(engine) as s:
        case = open_case(s, new=NewCase(grid_id=world.grid_id, title="路灯不亮", track="liaison",
                                        responsible="李干部", department="住建局"),
                         actor="李干部", today=TODAY)
        case_id, version = case.id, case.version
    for action, fields in WALK[status]:
        version = act(engine, case_id=case_id, version=version, action=action, actor="甲",
                      today=TODAY, **fields).version
    return case_id, version


def _events(world: World, case_id: int) -> int:
    with session_scope(get_engine(world.url)) as s:
        return s.scalar(select(func.count()).select_from(CaseEvent)
                        .where(CaseEvent.case_id == case_id))


def _pairs() -> list[tuple[str, str, str]]:
    pairs = []
    for status in WALK:
        offered = available_actions(status, "liaison", False)
        pairs += [(status, a, b) for a, b in product(offered, offered)]
    return pairs


def test_every_status_offers_some_pairs():
    statuses = {status for status, _, _ in _pairs()}
    assert statuses == set(WALK)


def test_the_second_save_of_every_pair_is_refused_and_writes_nothing(world):
    """After any action that changed the case, a save on the version read before it is refused.
    A note changes nothing but the history, so a save after it is no lost update and goes in."""
    engine = get_engine(world.url)
    for status, first, second in _pairs():
        case_id, version = _case_in(world, status)
        after = act(engine, case_id=case_id, version=version, action=first, actor="甲",
                    today=TODAY, **_inputs(first)).version
        written = _events(world, case_id)
        if first == "note":
            assert after == version
            continue
        with pytest.raises(ConflictError):
            act(engine, case_id=case_id, version=version, action=second, actor="乙",
                today=TODAY, **_inputs(second))
        assert _events(world, case_id) == written, (status, first, second)


def test_a_note_does_not_block_a_concurrent_save(world):
    engine = get_engine(world.url)
    case_id, version = _case_in(world, "handling")
    act(engine, case_id=case_id, version=version, action="note", actor="甲", today=TODAY,
        comment="电话回访")
    act(engine, case_id=case_id, version=version, action="result", actor="乙", today=TODAY,
        result="已修好")
    assert _events(world, case_id) == 1 + 2 + 2


def _race(world: World, monkeypatch, status: str, first: str, second: str) -> list[object]:
    """Both threads pass the version check on the same version, then save at the same moment."""
    case_id, version = _case_in(world, status)
    gate = threading.Barrier(2, timeout=10)
    waited: set[int] = set()
    for name in {first, second}:
        spec = ACTIONS[name]

        def handler(case, *, _inner=spec.handler, **kw):
            if threading.get_ident() not in waited:  # only the first attempt of each thread
                waited.add(threading.get_ident())
                gate.wait()
            _inner(case, **kw)

        monkeypatch.setitem(ACTIONS, name, dataclasses.replace(spec, handler=handler))
    outcomes: list[object] = [None, None]

    def run(i: int, action: str, actor: str) -> None:
        try:
            outcomes[i] = act(get_engine(world.url), case_id=case_id, version=version,
                              action=action, actor=actor, today=TODAY, **_inputs(action))
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(0, first, "甲")),
               threading.Thread(target=run, args=(1, second, "乙"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.mark.parametrize(("status", "first", "second"), [
    ("feedback", "close", "close"),       # both close: the second close has nothing left to do
    ("feedback", "close", "reopen"),
    ("handling", "result", "escalate"),
    ("registered", "start", "change_track"),
    ("handling", "reassign", "green_channel"),
])
def test_a_true_race_ends_in_one_save_and_one_conflict(world, monkeypatch, status, first, second):
    outcomes = _race(world, monkeypatch, status, first, second)
    saved = [o for o in outcomes if isinstance(o, Case)]
    refused = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(saved) == 1, outcomes
    assert len(refused) == 1, outcomes
    case_id = saved[0].id
    with session_scope(get_engine(world.url)) as s:
        actions = list(s.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id)
                                 .order_by(CaseEvent.id)))
    assert len(actions) == 1 + len(WALK[status]) + 1  # open, the walk, and the winner only
    winner = first if outcomes[0] is saved[0] else second
    assert actions[-1] == winner
