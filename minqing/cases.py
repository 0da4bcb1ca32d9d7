"""The four-track case workflow (四办) as a state machine with an append-only history.

A case moves through statuses::

    registered ──start──▶ handling ──result──▶ result ──feedback──▶ feedback ──close──▶ closed
         │                 ▲   │                  │                    │                 │
         └──escalate──▶ consultation              └────────reopen──────┴─────────────────┘
                           │ assign (包案 leader + new deadline) ──▶ handling

Besides status moves there are edits that keep the status: change track, green channel, the
liaison department's reply, the explanation given to the resident, reassignment and notes.

Why it is built this way:

* every change, including the opening, appends one :class:`~minqing.models.CaseEvent` in the same
  transaction as the change (who, when, from → to, comment, JSON of the changed fields), so the
  history is complete by construction;
* the caller passes the ``version`` it read; a different current version, or a concurrent save
  detected by the ORM's version counter, raises :class:`~minqing.errors.ConflictError` and rolls
  back, so the first save wins and the second user is told to reload instead of overwriting it;
* refusals are :class:`~minqing.errors.RuleError` / :class:`~minqing.errors.InputError` carrying a
  catalogue key, so the page can show the reason in the user's language next to the field;
* deadlines come from :mod:`minqing.deadlines` only.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from minqing.clock import now
from minqing.clock import today as clock_today
from minqing.deadlines import deadline_for
from minqing.errors import ConflictError, InputError, Label, NotFoundError, RuleError
from minqing.models import Case, CaseEvent, Grid, Household
from minqing.scope import Scope
from minqing.store import session_scope
from minqing.vocab import CaseStatus, Track

S = CaseStatus
DISTRICT = Scope.district()  # a system scope: imports and the demo; pages pass the viewer's scope
OPEN = frozenset({S.REGISTERED, S.HANDLING, S.CONSULTATION, S.RESULT, S.FEEDBACK})
SATISFACTION = ("satisfied", "basically_satisfied", "unsatisfied")
_TRACKED_FIELDS = (
    "title", "track", "status", "deadline", "responsible", "department", "letter_no",
    "letter_reply", "explanation", "leader", "green_channel", "is_risk", "satisfaction", "feedback",
    "result", "closed_on", "household_id",
)


class Action(StrEnum):
    """What a user can do to a case; the first group changes its status."""

    START = "start"
    ESCALATE = "escalate"
    ASSIGN = "assign"
    RESULT = "result"
    FEEDBACK = "feedback"
    CLOSE = "close"
    REOPEN = "reopen"
    CHANGE_TRACK = "change_track"
    GREEN_CHANNEL = "green_channel"
    LETTER_REPLY = "letter_reply"
    EXPLAIN = "explain"
    REASSIGN = "reassign"
    NOTE = "note"
    OPEN = "open"  # the opening event (登记); not available as a move


#: Status moves: action -> (statuses it may start from, status it leads to).
MOVES: dict[Action, tuple[frozenset[CaseStatus], CaseStatus]] = {
    Action.START: (frozenset({S.REGISTERED}), S.HANDLING),
    Action.ESCALATE: (frozenset({S.REGISTERED, S.HANDLING}), S.CONSULTATION),
    Action.ASSIGN: (frozenset({S.CONSULTATION}), S.HANDLING),
    Action.RESULT: (frozenset({S.HANDLING}), S.RESULT),
    Action.FEEDBACK: (frozenset({S.RESULT}), S.FEEDBACK),
    Action.CLOSE: (frozenset({S.FEEDBACK}), S.CLOSED),
    Action.REOPEN: (frozenset({S.RESULT, S.FEEDBACK, S.CLOSED}), S.HANDLING),
}

#: Edits that keep the status, and the statuses they are allowed in.
EDITS: dict[Action, frozenset[CaseStatus]] = {
    Action.CHANGE_TRACK: frozenset({S.REGISTERED, S.HANDLING}),
    Action.GREEN_CHANNEL: OPEN,
    Action.LETTER_REPLY: OPEN,
    Action.EXPLAIN: OPEN,
    Action.REASSIGN: OPEN,
    Action.NOTE: frozenset(S),
}


@dataclass(frozen=True)
class NewCase:
    """What a cadre fills in to open a case (possibly straight from a diary entry)."""

    grid_id: int
    title: str
    track: str
    responsible: str
    household_id: int | None = None
    promised: dt.date | None = None
    department: str | None = None
    letter_no: str | None = None
    green_channel: bool = False
    leader: str | None = None
    is_risk: bool = False
    diary_entry_id: int | None = None


# --- validation helpers -------------------------------------------------------------------------


def _text(value: str | None, field: str, *, max_len: int | None = None) -> str:
    """A required free-text field, stripped; refused when blank or too long."""
    value = (value or "").strip()
    if not value:
        raise InputError("case.error.required", field=field, field_name=Label(f"case.field.{field}"))
    if max_len and len(value) > max_len:
        raise InputError("case.error.too_long", field=field,
                         field_name=Label(f"case.field.{field}"), max_len=max_len)
    return value


def _track(value: str) -> str:
    try:
        return Track(value).value
    except ValueError:
        raise InputError("case.error.bad_track", field="track", value=value) from None


def _track_details(track: str, *, promised: dt.date | None, department: str | None,
                   opened_on: dt.date) -> None:
    """The per-track rules: a promised case needs a date, a liaison case needs a department."""
    if track == Track.PROMISED.value:
        if promised is None:
            raise RuleError("case.error.promised_date_required", field="promised")
        if promised < opened_on:
            raise RuleError("case.error.promised_date_past", field="promised",
                            day=opened_on.isoformat())
    if track == Track.LIAISON.value and not (department or "").strip():
        raise RuleError("case.error.department_required", field="department")


def _future_date(value: dt.date | None, field: str, today: dt.date) -> dt.date:
    if value is None:
        raise InputError("case.error.required", field=field, field_name=Label(f"case.field.{field}"))
    if value < today:
        raise RuleError("case.error.date_past", field=field, field_name=Label(f"case.field.{field}"),
                        day=today.isoformat())
    return value


def _new_code(today: dt.date) -> str:
    """A human-readable, collision-resistant case number (no id round trip needed)."""
    return f"MQ{today:%y%m%d}-{secrets.token_hex(3).upper()}"


def _letter_no(today: dt.date, code: str) -> str:
    """The liaison letter number (联系函编号) given when none is typed in."""
    return f"联系函〔{today:%Y}〕{code[-6:]}号"


# --- history ------------------------------------------------------------------------------------


def _jsonable(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def _snapshot(case: Case) -> dict[str, object]:
    return {name: getattr(case, name) for name in _TRACKED_FIELDS}


def _diff(before: dict[str, object], after: dict[str, object]) -> dict[str, list[object]]:
    """``{field: [old, new]}`` for every tracked field that changed."""
    return {
        name: [_jsonable(before[name]), _jsonable(after[name])]
        for name in _TRACKED_FIELDS if before[name] != after[name]
    }


def _event(case: Case, *, action: Action, actor: str, from_status: str | None, comment: str,
           changed: dict[str, list[object]], scope: Scope) -> CaseEvent:
    return CaseEvent(
        case_id=case.id, at=now(), actor=actor, action=action.value, from_status=from_status,
        to_status=case.status, comment=comment, data=json.dumps(changed, ensure_ascii=False),
        account_id=scope.account_id,
    )


# --- opening ------------------------------------------------------------------------------------


def open_case(session: Session, *, new: NewCase, actor: str, today: dt.date | None = None,
              comment: str = "", scope: Scope = DISTRICT) -> Case:
    """Register a case on its track, with its deadline and an ``open`` event; flushes, no commit.

    Raises :class:`InputError` / :class:`RuleError` naming the field when the form is incomplete.
    With a viewer's scope the event records the signed-in account, whatever ``actor`` says.
    """
    scope.require_casework()
    today = today or clock_today()
    actor = _text(scope.actor(actor), "actor", max_len=64)
    title = _text(new.title, "title", max_len=200)
    responsible = _text(new.responsible, "responsible", max_len=64)
    track = _track(new.track)
    _track_details(track, promised=new.promised, department=new.department, opened_on=today)
    grid = session.scalar(select(Grid).where(scope.where(Grid), Grid.id == new.grid_id))
    if grid is None:
        raise NotFoundError("case.error.grid_not_found", field="grid_id", grid_id=new.grid_id)
    _check_household(session, new.household_id, grid.id)
    if new.green_channel:
        _text(new.leader, "leader", max_len=64)
    code = _new_code(today)
    liaison = track == Track.LIAISON.value
    case = Case(
        code=code, grid_id=grid.id, town_id=grid.town_id, diary_entry_id=new.diary_entry_id,
        household_id=new.household_id, title=title, track=track, status=S.REGISTERED.value,
        opened_on=today, deadline=deadline_for(track, today, new.promised), responsible=responsible,
        department=new.department.strip() if liaison else None,
        letter_no=((new.letter_no or "").strip() or _letter_no(today, code)) if liaison else None,
        leader=(new.leader or "").strip() or None, green_channel=new.green_channel,
        is_risk=new.is_risk,
    )
    session.add(case)
    session.flush()
    empty = dict.fromkeys(_TRACKED_FIELDS)
    session.add(_event(case, action=Action.OPEN, actor=actor, from_status=None,
                       comment=comment.strip(), changed=_diff(empty, _snapshot(case)),
                       scope=scope))
    session.flush()
    return case


def _check_household(session: Session, household_id: int | None, grid_id: int) -> None:
    if household_id is None:
        return
    grid_of = session.scalar(select(Household.grid_id).where(Household.id == household_id))
    if grid_of is None:
        raise NotFoundError("case.error.household_not_found", field="household_id",
                            household_id=household_id)
    if grid_of != grid_id:
        raise RuleError("case.error.household_other_grid", field="household_id")


# --- moves and edits ----------------------------------------------------------------------------

Handler = Callable[..., None]


def _start(case: Case, *, today: dt.date, comment: str) -> None:
    """Registered -> handling: nothing to fill in."""


def _escalate(case: Case, *, today: dt.date, comment: str) -> None:
    """Hard cases go to the weekly township consultation (会诊); say why."""
    _text(comment, "reason")


def _assign(case: Case, *, today: dt.date, comment: str, leader: str | None = None,
            deadline: dt.date | None = None) -> None:
    """The consultation's decision: a responsible leader (包案) and a new deadline."""
    leader = _text(leader, "leader", max_len=64)
    case.deadline = _future_date(deadline, "deadline", today)
    case.leader = leader


def _result(case: Case, *, today: dt.date, comment: str, result: str | None = None) -> None:
    """What was done; a liaison case first needs the department's reply."""
    if case.track == Track.LIAISON.value and not case.letter_reply:
        raise RuleError("case.error.reply_required", field="letter_reply")
    case.result = _text(result, "result")


def _feedback(case: Case, *, today: dt.date, comment: str, satisfaction: str | None = None,
              feedback: str | None = None) -> None:
    """The result told to the resident, with the resident's satisfaction."""
    if satisfaction not in SATISFACTION:
        raise InputError("case.error.required", field="satisfaction",
                         field_name=Label("case.field.satisfaction"))
    case.satisfaction = satisfaction
    case.feedback = (feedback or "").strip() or None


def _close(case: Case, *, today: dt.date, comment: str) -> None:
    """销号: only after feedback, and never over a resident's "not satisfied" (reopen instead)."""
    if not case.satisfaction:
        raise RuleError("case.error.no_feedback", field="satisfaction")
    if case.satisfaction == "unsatisfied":
        raise RuleError("case.error.unsatisfied", field="satisfaction")
    case.closed_on = today


def _reopen(case: Case, *, today: dt.date, comment: str, deadline: dt.date | None = None) -> None:
    """Back to handling with a reason and a fresh deadline; the old result stays in the history."""
    _text(comment, "reason")
    if deadline is None and case.track == Track.PROMISED.value:
        raise RuleError("case.error.promised_date_required", field="deadline")
    case.deadline = (_future_date(deadline, "deadline", today) if deadline
                     else deadline_for(case.track, today))
    case.satisfaction = None
    case.feedback = None
    case.closed_on = None


def _change_track(case: Case, *, today: dt.date, comment: str, track: str | None = None,
                  promised: dt.date | None = None, department: str | None = None,
                  letter_no: str | None = None) -> None:
    """Put the case on another track; its deadline restarts from today under that track's rule."""
    track = _track(track or "")
    if track == case.track:
        raise RuleError("case.error.same_track", field="track")
    _track_details(track, promised=promised, department=department, opened_on=today)
    case.track = track
    case.deadline = deadline_for(track, today, promised)
    if track == Track.LIAISON.value:
        case.department = (department or "").strip()
        case.letter_no = (letter_no or "").strip() or case.letter_no or _letter_no(today, case.code)


def _green_channel(case: Case, *, today: dt.date, comment: str, leader: str | None = None) -> None:
    """The green channel sends the case straight to a named district leader."""
    if case.green_channel:
        raise RuleError("case.error.already_green")
    case.leader = _text(leader, "leader", max_len=64)
    case.green_channel = True


def _liaison_only(case: Case) -> None:
    if case.track != Track.LIAISON.value:
        raise RuleError("case.error.not_liaison", field="track")


def _letter_reply(case: Case, *, today: dt.date, comment: str, reply: str | None = None) -> None:
    """The responsible department's answer to the liaison letter."""
    _liaison_only(case)
    case.letter_reply = _text(reply, "letter_reply")


def _explain(case: Case, *, today: dt.date, comment: str, explanation: str | None = None) -> None:
    """What the resident was told when the matter cannot be done yet."""
    _liaison_only(case)
    case.explanation = _text(explanation, "explanation")


def _reassign(case: Case, *, today: dt.date, comment: str, responsible: str | None = None) -> None:
    responsible = _text(responsible, "responsible", max_len=64)
    if responsible == case.responsible:
        raise RuleError("case.error.same_responsible", field="responsible")
    case.responsible = responsible


def _note(case: Case, *, today: dt.date, comment: str) -> None:
    _text(comment, "comment")


_HANDLERS: dict[Action, Handler] = {
    Action.START: _start, Action.ESCALATE: _escalate, Action.ASSIGN: _assign,
    Action.RESULT: _result, Action.FEEDBACK: _feedback, Action.CLOSE: _close,
    Action.REOPEN: _reopen, Action.CHANGE_TRACK: _change_track,
    Action.GREEN_CHANNEL: _green_channel, Action.LETTER_REPLY: _letter_reply,
    Action.EXPLAIN: _explain, Action.REASSIGN: _reassign, Action.NOTE: _note,
}


def _check_allowed(case: Case, action: Action) -> CaseStatus | None:
    """The status the move leads to (None for an edit), or a refusal naming both statuses."""
    status = CaseStatus(case.status)
    if action in MOVES:
        sources, target = MOVES[action]
        allowed = status in sources
    else:
        target, allowed = None, status in EDITS[action]
    if allowed:
        return target
    if status == S.CLOSED:
        raise RuleError("case.error.closed", action=Label(f"case.action.{action.value}"))
    if action == Action.CLOSE:
        raise RuleError("case.error.no_feedback", field="satisfaction")
    raise RuleError("case.error.transition", action=Label(f"case.action.{action.value}"),
                    status=Label(f"status.{status.value}"))


def available_actions(status: str, track: str, green_channel: bool = False) -> list[Action]:
    """The actions a form should offer for a case in ``status`` on ``track``."""
    current = CaseStatus(status)
    offered = [a for a, (sources, _) in MOVES.items() if current in sources]
    offered += [a for a, allowed in EDITS.items() if current in allowed]
    if track != Track.LIAISON.value:
        offered = [a for a in offered if a not in (Action.LETTER_REPLY, Action.EXPLAIN)]
    if green_channel:
        offered = [a for a in offered if a != Action.GREEN_CHANNEL]
    return offered


def _in_scope(session: Session, scope: Scope, case_id: int) -> bool:
    return session.scalar(select(Case.id).where(scope.where(Case), Case.id == case_id)) is not None


def apply(session: Session, *, case_id: int, version: int, action: str, actor: str,
          comment: str = "", today: dt.date | None = None, scope: Scope = DISTRICT,
          **fields: object) -> Case:
    """Apply one action to a case the caller read at ``version``; appends its event. Flushes.

    Raises
    ------
    NotFoundError : no such case, or it lies outside the caller's ``scope``.
    ConflictError : the case changed since the caller read it (the caller's input is untouched:
        the page keeps it in the form so the user can re-apply after reloading).
    RuleError, InputError : the move is not allowed, or a field is missing; names the field.
    """
    today = today or clock_today()
    try:
        action = Action(action)
    except ValueError:
        raise InputError("case.error.bad_action", field="action", value=action) from None
    if action == Action.OPEN:
        raise RuleError("case.error.transition", action=Label("case.action.open"),
                        status=Label("status.registered"))
    scope.require_casework()
    actor = _text(scope.actor(actor), "actor", max_len=64)
    case = session.get(Case, case_id)
    if case is None or not _in_scope(session, scope, case_id):
        raise NotFoundError("case.error.not_found", case_id=case_id)
    if case.version != version:
        raise ConflictError("case.error.conflict", code=case.code)
    target = _check_allowed(case, action)
    before = _snapshot(case)
    from_status = case.status
    _HANDLERS[action](case, today=today, comment=comment or "", **fields)
    if target is not None:
        case.status = target.value
    session.add(_event(case, action=action, actor=actor, from_status=from_status,
                       comment=(comment or "").strip(), changed=_diff(before, _snapshot(case)),
                       scope=scope))
    try:
        session.flush()
    except StaleDataError:
        raise ConflictError("case.error.conflict", code=case.code) from None
    return case


def act(engine: Engine, *, case_id: int, version: int, action: str, actor: str,
        comment: str = "", today: dt.date | None = None, scope: Scope = DISTRICT,
        **fields: object) -> Case:
    """:func:`apply` in its own transaction: committed on success, rolled back on any refusal."""
    with session_scope(engine) as session:
        return apply(session, case_id=case_id, version=version, action=action, actor=actor,
                     comment=comment, today=today, scope=scope, **fields)
