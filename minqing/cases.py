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
* deadlines come from :mod:`minqing.deadlines` only;
* every action is declared once in :data:`ACTIONS` (:class:`ActionSpec`: the statuses it starts
  from and leads to, the fields it asks for, the comment it needs, which cases it applies to, and
  what KPIs count it as). The case form, the case page, the demo and the KPIs read that
  declaration; another module adds an action with one :func:`declare` call (and its strings);
* a form submission may carry an idempotency key, stored on the event it appends (unique): a
  submission repeated after its reply was lost (a double tap, a resend after a reconnect) finds
  its event and applies nothing, so the store, not the browser session, refuses the duplicate.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from minqing import workcalendar
from minqing.clock import now
from minqing.clock import today as clock_today
from minqing.deadlines import deadline_for
from minqing.errors import ConflictError, InputError, Label, NotFoundError, RuleError
from minqing.models import Case, CaseEvent, Grid, Household
from minqing.scope import Scope
from minqing.store import session_scope, write
from minqing.text import clean
from minqing.vocab import OPEN_STATUSES, CaseStatus, Track
from minqing.workcalendar import WorkCalendar

S = CaseStatus
DISTRICT = Scope.district()  # a system scope: imports and the demo; pages pass the viewer's scope
OPEN = frozenset(OPEN_STATUSES)
SATISFACTION = ("satisfied", "basically_satisfied", "unsatisfied")
_TRACKED_FIELDS = (
    "title", "track", "status", "deadline", "responsible", "department", "letter_no",
    "letter_reply", "explanation", "leader", "green_channel", "is_risk", "satisfaction", "feedback",
    "result", "closed_on", "household_id", "rectify_by",
)


class Action(StrEnum):
    """The names of the built-in actions; what each does is declared in :data:`ACTIONS`."""

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
    DECIDE = "decide"  # a consultation's decision (会诊决定): leader, track, department
    EXTEND = "extend"  # a consultation's new deadline (会诊另定期限)
    RECTIFY = "rectify"  # a follow-up's criticism and rectification deadline (复诊限期整改)
    OPEN = "open"  # the opening event (登记); not available as a move


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


def max_length_of(model: type, column: str) -> int | None:
    """The longest text ``model.column`` holds (None: unlimited, or not a column)."""
    found = model.__table__.columns.get(column)
    return getattr(found.type, "length", None) if found is not None else None


def max_length(column: str) -> int | None:
    """The longest text the case column ``column`` holds (None: unlimited, or not a column)."""
    return max_length_of(Case, column)


def _text(value: str | None, field: str, *, column: str | None = None,
          model: type = Case) -> str:
    """A required free-text field, cleaned (:func:`minqing.text.clean`); refused when blank or
    longer than its column."""
    max_len = max_length_of(model, column or field)
    value = clean(value)
    if not value:
        raise InputError("case.error.required", field=field, field_name=Label(f"case.field.{field}"))
    if max_len and len(value) > max_len:
        raise InputError("case.error.too_long", field=field,
                         field_name=Label(f"case.field.{field}"), max_len=max_len)
    return value


def _optional_text(value: str | None, field: str) -> str | None:
    """An optional free-text field: cleaned, None when blank, refused when longer than its column."""
    return _text(value, field) if clean(value) else None


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


# --- numbering (shared with the demo generator) -------------------------------------------------

_LETTER_PREFIX = "联系函〔{year}〕"  # an official document number: the same in every UI language


def case_code(opened_on: dt.date, serial: int) -> str:
    """A case number: the day it was opened and a six-hex-digit serial, ``MQ261120-00002A``."""
    return f"MQ{opened_on:%y%m%d}-{serial:06X}"


def letter_number(year: int, serial: int) -> str:
    """A liaison letter number (联系函编号), numbered from 1 each year: ``联系函〔2026〕12号``."""
    return f"{_LETTER_PREFIX.format(year=year)}{serial}号"


def _new_code(today: dt.date) -> str:
    """A collision-resistant case number for a live case (random serial: no id round trip)."""
    return case_code(today, secrets.randbits(24))


def _next_letter_number(session: Session, today: dt.date) -> str:
    """The year's next letter number. Two letters issued in the same instant could share a
    number; the case code, which is unique, is printed on the letter beside it."""
    prefix = _LETTER_PREFIX.format(year=today.year)
    taken = session.scalars(select(Case.letter_no).where(Case.letter_no.like(f"{prefix}%")))
    serials = [int(n[len(prefix):-1]) for n in taken if n[len(prefix):-1].isdigit()]
    return letter_number(today.year, max(serials, default=0) + 1)


def _calendar(session: Session) -> WorkCalendar:
    """The working-day calendar kept in the store the session writes to."""
    bind = session.get_bind()
    return workcalendar.load(getattr(bind, "engine", bind))


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


def _event(case: Case, *, action: str, actor: str, from_status: str | None, comment: str,
           changed: dict[str, list[object]], scope: Scope, key: str | None = None) -> CaseEvent:
    return CaseEvent(
        case_id=case.id, at=now(), actor=actor, action=str(action), from_status=from_status,
        to_status=case.status, comment=comment, data=json.dumps(changed, ensure_ascii=False),
        account_id=scope.account_id, event_key=key,
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
    actor = _text(scope.actor(actor), "actor", model=CaseEvent)
    title = _text(new.title, "title")
    responsible = _text(new.responsible, "responsible")
    track = _track(new.track)
    _track_details(track, promised=new.promised, department=new.department, opened_on=today)
    grid = session.scalar(select(Grid).where(scope.where(Grid), Grid.id == new.grid_id))
    if grid is None:
        raise NotFoundError("case.error.grid_not_found", field="grid_id", grid_id=new.grid_id)
    _check_household(session, new.household_id, grid.id)
    if new.green_channel:
        _text(new.leader, "leader")
    code = _new_code(today)
    liaison = track == Track.LIAISON.value
    case = Case(
        code=code, grid_id=grid.id, town_id=grid.town_id, diary_entry_id=new.diary_entry_id,
        household_id=new.household_id, title=title, track=track, status=S.REGISTERED.value,
        opened_on=today, deadline=deadline_for(track, today, new.promised, _calendar(session)),
        responsible=responsible,
        department=_text(new.department, "department") if liaison else None,
        letter_no=(_text(new.letter_no, "letter_no") if (new.letter_no or "").strip()
                   else _next_letter_number(session, today)) if liaison else None,
        leader=_optional_text(new.leader, "leader"), green_channel=new.green_channel,
        is_risk=new.is_risk,
    )
    session.add(case)
    session.flush()
    empty = dict.fromkeys(_TRACKED_FIELDS)
    session.add(_event(case, action=Action.OPEN, actor=actor, from_status=None,
                       comment=clean(comment), changed=_diff(empty, _snapshot(case)),
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


# --- what each action does ----------------------------------------------------------------------

Handler = Callable[..., None]


def _nothing(case: Case, *, today: dt.date, comment: str) -> None:
    """Nothing changes but the status (if the action moves it) and the comment."""


def _assign(case: Case, *, today: dt.date, comment: str, leader: str | None = None,
            deadline: dt.date | None = None) -> None:
    """The consultation's decision: a responsible leader (包案) and a new deadline."""
    leader = _text(leader, "leader")
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
    case.feedback = _optional_text(feedback, "feedback")


def _close(case: Case, *, today: dt.date, comment: str) -> None:
    """销号: only after feedback, and never over a resident's "not satisfied" (reopen instead)."""
    if not case.satisfaction:
        raise RuleError("case.error.no_feedback", field="satisfaction")
    if case.satisfaction == "unsatisfied":
        raise RuleError("case.error.unsatisfied", field="satisfaction")
    case.closed_on = today


def _reopen(case: Case, *, today: dt.date, comment: str, deadline: dt.date | None = None) -> None:
    """Back to handling with a fresh deadline; the old result stays in the history."""
    if deadline is None and case.track == Track.PROMISED.value:
        raise RuleError("case.error.promised_date_required", field="deadline")
    case.deadline = (_future_date(deadline, "deadline", today) if deadline
                     else deadline_for(case.track, today, calendar=_calendar(object_session(case))))
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
    case.deadline = deadline_for(track, today, promised, _calendar(object_session(case)))
    if track == Track.LIAISON.value:
        case.department = _text(department, "department")
        case.letter_no = (_text(letter_no, "letter_no") if (letter_no or "").strip()
                          else case.letter_no or _next_letter_number(object_session(case), today))


def _green_channel(case: Case, *, today: dt.date, comment: str, leader: str | None = None) -> None:
    """The green channel sends the case straight to a named district leader."""
    case.leader = _text(leader, "leader")
    case.green_channel = True


def _letter_reply(case: Case, *, today: dt.date, comment: str,
                  letter_reply: str | None = None) -> None:
    """The responsible department's answer to the liaison letter."""
    case.letter_reply = _text(letter_reply, "letter_reply")


def _explain(case: Case, *, today: dt.date, comment: str, explanation: str | None = None) -> None:
    """What the resident was told when the matter cannot be done yet."""
    case.explanation = _text(explanation, "explanation")


def _reassign(case: Case, *, today: dt.date, comment: str, responsible: str | None = None) -> None:
    responsible = _text(responsible, "responsible")
    if responsible == case.responsible:
        raise RuleError("case.error.same_responsible", field="responsible")
    case.responsible = responsible


def _decide(case: Case, *, today: dt.date, comment: str, track: str | None = None,
            leader: str | None = None, department: str | None = None,
            promised: dt.date | None = None) -> None:
    """A consultation's decision: another track, a 包案 leader, the responsible department
    (liaison track), any of them; the case goes (back) to handling. A new deadline is the
    separate ``extend`` action, recorded in the same transaction by the meeting."""
    if track and track != case.track:
        _change_track(case, today=today, comment=comment, track=track, promised=promised,
                      department=department or case.department)
    if (department or "").strip() and department.strip() != case.department:
        if case.track != Track.LIAISON.value:
            raise RuleError("case.error.not_liaison", field="department")
        case.department = _text(department, "department")
    if (leader or "").strip():
        case.leader = _text(leader, "leader")


def _extend(case: Case, *, today: dt.date, comment: str, deadline: dt.date | None = None) -> None:
    """A new deadline set by a consultation."""
    case.deadline = _future_date(deadline, "deadline", today)


def _rectify(case: Case, *, today: dt.date, comment: str,
             rectify_by: dt.date | None = None) -> None:
    """A follow-up's rectification deadline (the criticism is the comment). The case's deadline
    stays as it was, so a late case is still counted late."""
    case.rectify_by = _future_date(rectify_by, "rectify_by", today)


# --- the declaration ------------------------------------------------------------------------------

Widget = Literal["text", "long_text", "date", "select", "choice", "other_track", "flag"]
"""How a field is asked: one line, several lines, a date, a pick from ``choices`` (``select``:
the first is preselected; ``choice``: the user must pick), another track than the case's, a tick."""


@dataclass(frozen=True)
class Field:
    """One input an action asks for: ``name`` is the handler's keyword, the case column it writes
    (when it is one) and the catalogue label ``case.field.<name>``."""

    name: str
    widget: Widget = "text"
    choices: tuple[str, ...] = ()  # for ``select``/``choice``; labels are ``<name>.<choice>``
    help: str | None = None  # catalogue key of a hint shown with the field

    @property
    def max_len(self) -> int | None:
        """The column's length: the form and both stores refuse longer text."""
        return max_length(self.name)


@dataclass(frozen=True)
class Condition:
    """A rule on the case (beyond its status) that an action needs, and the refusal's key."""

    holds: Callable[[Mapping[str, object]], bool]
    refusal: str
    field: str | None = None


@dataclass(frozen=True)
class ActionSpec:
    """Everything about one action, declared once.

    ``sources`` are the statuses it may start from and ``target`` the status it leads to (None:
    an edit that keeps the status). ``fields`` are the inputs it asks for, in order; ``comment``
    names a comment it requires (``"reason"``, ``"comment"``) or None when it is optional.
    ``requires`` are further rules on the case. ``counts_as`` tags what KPIs count it as
    (``"extension"``: it gave a new, later deadline; ``"rework"``: it sent a finished case back).
    ``offered`` is False for the opening, which :func:`open_case` records; ``meeting`` is True
    for the actions a meeting takes (:mod:`minqing.supervision.meetings`), which the case page
    does not offer. ``quick`` marks the field work a cadre records on a phone (progress, result,
    feedback, close and what they need): the quick update offers those only
    (:func:`quick_actions`).
    """

    handler: Handler | None
    sources: frozenset[CaseStatus]
    target: CaseStatus | None = None
    fields: tuple[Field, ...] = ()
    comment: str | None = None
    requires: tuple[Condition, ...] = ()
    counts_as: frozenset[str] = field(default_factory=frozenset)
    offered: bool = True
    meeting: bool = False
    quick: bool = False

    def applies(self, case: Mapping[str, object]) -> bool:
        """Whether a form should offer this action for ``case`` (status, track, green_channel)."""
        return (self.offered and not self.meeting and CaseStatus(case["status"]) in self.sources
                and all(rule.holds(case) for rule in self.requires))


_LIAISON = Condition(lambda c: c["track"] == Track.LIAISON.value, "case.error.not_liaison", "track")
_NOT_GREEN = Condition(lambda c: not c["green_channel"], "case.error.already_green")
_TRACKS = tuple(t.value for t in Track)

ACTIONS: dict[str, ActionSpec] = {
    Action.OPEN: ActionSpec(None, frozenset(), S.REGISTERED, offered=False, fields=(
        Field("title", help="diary.title_help"), Field("track", "select", _TRACKS),
        Field("responsible"), Field("promised", "date", help="diary.promised_help"),
        Field("department", help="diary.department_help"), Field("green_channel", "flag"),
        Field("leader", help="diary.leader_help"))),
    Action.START: ActionSpec(_nothing, frozenset({S.REGISTERED}), S.HANDLING, quick=True),
    Action.ESCALATE: ActionSpec(_nothing, frozenset({S.REGISTERED, S.HANDLING}), S.CONSULTATION,
                                comment="reason"),
    Action.ASSIGN: ActionSpec(_assign, frozenset({S.CONSULTATION}), S.HANDLING,
                              fields=(Field("leader"), Field("deadline", "date")),
                              counts_as=frozenset({"extension"})),
    Action.RESULT: ActionSpec(_result, frozenset({S.HANDLING}), S.RESULT, quick=True,
                              fields=(Field("result", "long_text"),)),
    Action.FEEDBACK: ActionSpec(_feedback, frozenset({S.RESULT}), S.FEEDBACK, quick=True, fields=(
        Field("satisfaction", "choice", SATISFACTION), Field("feedback"))),
    Action.CLOSE: ActionSpec(_close, frozenset({S.FEEDBACK}), S.CLOSED, quick=True),
    Action.REOPEN: ActionSpec(_reopen, frozenset({S.RESULT, S.FEEDBACK, S.CLOSED}), S.HANDLING,
                              fields=(Field("deadline", "date", help="case.reopen_help"),),
                              comment="reason", counts_as=frozenset({"rework"}), quick=True),
    Action.CHANGE_TRACK: ActionSpec(_change_track, frozenset({S.REGISTERED, S.HANDLING}), fields=(
        Field("track", "other_track"), Field("promised", "date"), Field("department"))),
    Action.GREEN_CHANNEL: ActionSpec(_green_channel, OPEN, fields=(Field("leader"),),
                                     requires=(_NOT_GREEN,)),
    Action.LETTER_REPLY: ActionSpec(_letter_reply, OPEN, requires=(_LIAISON,), quick=True,
                                    fields=(Field("letter_reply", "long_text"),)),
    Action.EXPLAIN: ActionSpec(_explain, OPEN, requires=(_LIAISON,),
                               fields=(Field("explanation", "long_text"),)),
    Action.REASSIGN: ActionSpec(_reassign, OPEN, fields=(Field("responsible"),)),
    Action.NOTE: ActionSpec(_nothing, frozenset(S), comment="comment", quick=True),
    Action.DECIDE: ActionSpec(_decide, frozenset({S.REGISTERED, S.HANDLING, S.CONSULTATION}),
                              S.HANDLING, meeting=True, fields=(
        Field("leader"), Field("track", "other_track"), Field("department"))),
    Action.EXTEND: ActionSpec(_extend, frozenset({S.REGISTERED, S.HANDLING}), meeting=True,
                              fields=(Field("deadline", "date"),),
                              counts_as=frozenset({"extension"})),
    Action.RECTIFY: ActionSpec(_rectify, OPEN, meeting=True, comment="criticism",
                               fields=(Field("rectify_by", "date"),)),
}
"""Every case action by name. The opening is declared for its fields; it is not a move."""

MAIN_LINE = (S.REGISTERED, S.HANDLING, S.RESULT, S.FEEDBACK, S.CLOSED)
"""The statuses a case passes on its way to closing when nothing goes wrong."""


def coded_fields() -> frozenset[str]:
    """Case fields stored as vocabulary codes (shown as ``<field>.<code>`` from the catalogue):
    the status, and every declared field picked from a list."""
    picked = {spec.name for action in ACTIONS.values() for spec in action.fields
              if spec.choices or spec.widget == "other_track"}
    return frozenset({"status", *picked})


def declare(name: str, spec: ActionSpec) -> None:
    """Add an action (e.g. a consultation decision) from another module; names are unique and
    fit the event's ``action`` column."""
    if name in ACTIONS:
        raise ValueError(f"case action {name!r} is declared twice")
    if len(name) > (max_length_of(CaseEvent, "action") or len(name)):
        raise ValueError(f"case action name {name!r} is too long")
    ACTIONS[name] = spec


def _check_allowed(case: Case, name: str, spec: ActionSpec) -> None:
    """Refuse an action the case's status or state does not allow, naming why."""
    status = CaseStatus(case.status)
    if status not in spec.sources:
        if status == S.CLOSED:
            raise RuleError("case.error.closed", action=Label(f"case.action.{name}"))
        if name == Action.CLOSE:
            raise RuleError("case.error.no_feedback", field="satisfaction")
        raise RuleError("case.error.transition", action=Label(f"case.action.{name}"),
                        status=Label(f"status.{status.value}"))
    state = {"status": case.status, "track": case.track, "green_channel": case.green_channel}
    for rule in spec.requires:
        if not rule.holds(state):
            raise RuleError(rule.refusal, field=rule.field)


def available_actions(status: str, track: str, green_channel: bool = False) -> list[str]:
    """The actions a form should offer for a case in ``status`` on ``track``, in declared order."""
    case = {"status": status, "track": track, "green_channel": green_channel}
    return [name for name, spec in ACTIONS.items() if spec.applies(case)]


def quick_actions(status: str, track: str, green_channel: bool = False) -> list[str]:
    """The quick update's actions for a case: the declared ``quick`` ones it allows, the move one
    step along :data:`MAIN_LINE` first (the form preselects it), then a note (the everyday
    progress report, and the harmless choice where there is no next move: a closed case), the
    rest in declared order."""
    quick = [name for name in available_actions(status, track, green_channel)
             if ACTIONS[name].quick]
    line = list(MAIN_LINE)
    ahead = line[line.index(status) + 1] if status in line[:-1] else None

    def rank(name: str) -> int:
        if ahead is not None and ACTIONS[name].target == ahead:
            return 0
        return 1 if name == Action.NOTE else 2

    return sorted(quick, key=rank)


def _in_scope(session: Session, scope: Scope, case_id: int) -> bool:
    return session.scalar(select(Case.id).where(scope.where(Case), Case.id == case_id)) is not None


def _check_key(key: str | None) -> None:
    """An idempotency key is made by the form, never typed: a bad one is a bug, not input."""
    longest = max_length_of(CaseEvent, "event_key")
    if key is not None and not 0 < len(key) <= longest:
        raise ValueError(f"an idempotency key has 1 to {longest} characters")


def _applied(session: Session, key: str | None, case_id: int) -> bool:
    """Whether the submission with ``key`` already appended its event to case ``case_id``."""
    if key is None:
        return False
    done = session.scalar(select(CaseEvent.case_id).where(CaseEvent.event_key == key))
    if done is not None and done != case_id:
        raise ValueError(f"idempotency key {key!r} belongs to another case")
    return done is not None


def apply(session: Session, *, case_id: int, version: int, action: str, actor: str,
          comment: str = "", today: dt.date | None = None, scope: Scope = DISTRICT,
          key: str | None = None, **fields: object) -> Case:
    """Apply one action to a case the caller read at ``version``; appends its event. Flushes.

    ``key`` is the form submission's idempotency key, stored on the event: when an event with
    it already exists (the same submission sent again after its reply was lost), nothing is
    checked or written and the case comes back as it is now.

    Raises
    ------
    NotFoundError : no such case, or it lies outside the caller's ``scope``.
    ConflictError : the case changed since the caller read it (the caller's input is untouched:
        the page keeps it in the form so the user can re-apply after reloading).
    RuleError, InputError : the move is not allowed, or a field is missing; names the field.
    """
    today = today or clock_today()
    spec = ACTIONS.get(action)
    if spec is None:
        raise InputError("case.error.bad_action", field="action", value=action)
    if not spec.offered:
        raise RuleError("case.error.transition", action=Label(f"case.action.{action}"),
                        status=Label("status.registered"))
    scope.require_casework()
    _check_key(key)
    actor = _text(scope.actor(actor), "actor", column="actor", model=CaseEvent)
    case = session.get(Case, case_id)
    if case is None or not _in_scope(session, scope, case_id):
        raise NotFoundError("case.error.not_found", case_id=case_id)
    if _applied(session, key, case_id):
        return case
    if case.version != version:
        raise ConflictError("case.error.conflict", code=case.code)
    _check_allowed(case, action, spec)
    if spec.comment:
        _text(comment, spec.comment)
    before = _snapshot(case)
    from_status, code = case.status, case.code
    spec.handler(case, today=today, comment=comment or "", **fields)
    if spec.target is not None:
        case.status = spec.target.value
    session.add(_event(case, action=action, actor=actor, from_status=from_status,
                       comment=clean(comment), changed=_diff(before, _snapshot(case)),
                       scope=scope, key=key))
    try:
        session.flush()
    except StaleDataError:  # a concurrent save of the same version won; the session is dead now
        raise ConflictError("case.error.conflict", code=code) from None
    return case


def act(engine: Engine, *, case_id: int, version: int, action: str, actor: str,
        comment: str = "", today: dt.date | None = None, scope: Scope = DISTRICT,
        key: str | None = None, **fields: object) -> Case:
    """:func:`apply` in its own transaction: committed on success, rolled back on any refusal.

    Two copies of one keyed submission racing each other both pass the key check; the loser
    meets the winner's version (a conflict) or key (the unique index), finds the winner's event
    and returns the case as the winner left it, as a repeated submission does.
    """
    try:
        return write(engine, lambda session: apply(
            session, case_id=case_id, version=version, action=action, actor=actor,
            comment=comment, today=today, scope=scope, key=key, **fields))
    except (ConflictError, IntegrityError):
        with session_scope(engine) as session:
            if not _applied(session, key, case_id):
                raise
            return session.get(Case, case_id)
