"""The weekly township consultation (会诊) and the monthly area follow-up (复诊).

A meeting is prepared from the data: its agenda lists the cases that qualify, each with the
reasons it is there. Starting the meeting snapshots the agenda (date, chair, attendees, items);
each decision is then written to the case through :func:`minqing.cases.apply` (its case
events: ``decide``, ``extend``, ``rectify`` or a ``note``, declared in :data:`minqing.cases.ACTIONS`)
and onto the meeting item, in one transaction. Minutes and the list of past meetings read back
what was recorded.

Membership rules, stated once:

consultation (a town's open cases)
    ``escalated``: sent to consultation (status ``consultation``); ``overdue``: past the deadline
    (:func:`minqing.deadlines.overdue_clause`); ``reopened``: reworked more than once;
    ``extended``: given a new deadline more than once (the actions the KPIs count as rework and
    extension, :data:`minqing.cases.ACTIONS`); ``high_risk``: a risk case from an entry of the
    highest risk level; ``green``: on the green channel.
follow-up (an area's open cases)
    ``late``: overdue; ``at_risk``: due soon (:func:`minqing.deadlines.due_soon_clause`);
    ``rectify_missed``: a rectification deadline set by an earlier follow-up has passed.

A rectification is **met** when the case was closed on or before its ``rectify_by`` date,
**missed** when that date has passed otherwise, and **pending** until then.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum

import pandas as pd
from sqlalchemy import Engine, and_, case, func, or_, select
from sqlalchemy.orm import Session

from minqing import cases as casework
from minqing.clock import now
from minqing.clock import today as clock_today
from minqing.deadlines import days_left, due_soon_clause, open_clause, overdue_clause
from minqing.errors import InputError, Label, NotFoundError, RuleError
from minqing.models import (
    Area,
    Case,
    CaseEvent,
    DiaryEntry,
    Grid,
    Meeting,
    MeetingItem,
    Town,
)
from minqing.scope import Scope
from minqing.store import session_scope
from minqing.supervision import require_supervision
from minqing.vocab import CaseStatus

HIGH_RISK = 3


class Kind(StrEnum):
    CONSULTATION = "consultation"  # 会诊 (weekly, per town)
    FOLLOW_UP = "follow_up"  # 复诊 (monthly, per area)


AGENDA_COLUMNS = ["case_id", "code", "title", "track", "status", "deadline", "days_left", "grid",
                  "responsible", "leader", "department", "version", "reasons"]


def _times(tag: str):
    """SQL: how many of the case's events are actions tagged ``tag`` (``"rework"``,
    ``"extension"``) in :data:`minqing.cases.ACTIONS`, the tags the KPIs count."""
    actions = [name for name, spec in casework.ACTIONS.items() if tag in spec.counts_as]
    return (select(func.count()).where(CaseEvent.case_id == Case.id,
                                       CaseEvent.action.in_(actions)).scalar_subquery())


def _flag(condition):
    return case((condition, 1), else_=0)


def _agenda_flags(kind: Kind, today: dt.date) -> dict[str, object]:
    if kind == Kind.CONSULTATION:
        risk_level = (select(DiaryEntry.risk_level).where(DiaryEntry.id == Case.diary_entry_id)
                      .scalar_subquery())
        return {
            "green": _flag(Case.green_channel.is_(True)),
            "escalated": _flag(Case.status == CaseStatus.CONSULTATION.value),
            "high_risk": _flag(and_(Case.is_risk.is_(True), risk_level >= HIGH_RISK)),
            "overdue": _flag(overdue_clause(today)),
            "reopened": _flag(_times("rework") > 1),
            "extended": _flag(_times("extension") > 1),
        }
    return {
        "rectify_missed": _flag(and_(Case.rectify_by.is_not(None), Case.rectify_by < today)),
        "late": _flag(overdue_clause(today)),
        "at_risk": _flag(due_soon_clause(today)),
    }


def agenda(engine: Engine, *, scope: Scope, kind: str, town_id: int | None = None,
           area_id: int | None = None, today: dt.date | None = None) -> pd.DataFrame:
    """The cases a meeting should discuss, each with the reasons it qualifies (module rules).

    A consultation takes ``town_id``, a follow-up ``area_id``. Rows are ordered by the first
    reason in the kind's reason order, then most days overdue first. Columns:
    :data:`AGENDA_COLUMNS`; ``reasons`` is a list of reason codes.
    """
    today = today or clock_today()
    kind = Kind(kind)
    flags = _agenda_flags(kind, today)
    place = (Case.town_id == town_id) if kind == Kind.CONSULTATION else Case.grid_id.in_(
        select(Grid.id).where(Grid.area_id == area_id))
    inner = (
        select(Case.id.label("case_id"), Case.code, Case.title, Case.track, Case.status,
               Case.deadline, Grid.name.label("grid"), Case.responsible, Case.leader,
               Case.department, Case.version, *[f.label(k) for k, f in flags.items()])
        .join(Grid, Grid.id == Case.grid_id)
        .where(scope.where(Case), place, open_clause())
        .subquery()
    )
    any_flag = or_(*[inner.c[k] == 1 for k in flags])
    with engine.connect() as conn:
        rows = conn.execute(select(inner).where(any_flag)).mappings().all()
    order = list(flags)
    out = []
    for row in rows:
        reasons = [k for k in order if row[k]]
        out.append({**{c: row[c] for c in AGENDA_COLUMNS if c in row},
                    "days_left": days_left(row["deadline"], today), "reasons": reasons,
                    "_rank": order.index(reasons[0])})
    frame = pd.DataFrame(out, columns=[*AGENDA_COLUMNS, "_rank"])
    frame = frame.sort_values(["_rank", "days_left", "case_id"]).drop(columns="_rank")
    return frame.reset_index(drop=True)[AGENDA_COLUMNS]


def _required(value: str | None, field: str, label: str, max_len: int = 64) -> str:
    value = (value or "").strip()
    if not value:
        raise InputError("case.error.required", field=field, field_name=Label(label))
    if len(value) > max_len:
        raise InputError("case.error.too_long", field=field, field_name=Label(label),
                         max_len=max_len)
    return value


def start_meeting(engine: Engine, *, scope: Scope, kind: str, held_on: dt.date, chair: str,
                  attendees: str, actor: str, town_id: int | None = None,
                  area_id: int | None = None, today: dt.date | None = None) -> int:
    """Open a meeting with today's agenda as its items; returns the meeting id.

    Raises InputError (chair, actor, a date in the future, nothing on the agenda) and
    NotFoundError (the town or area is outside ``scope``).
    """
    today = today or clock_today()
    kind = Kind(kind)
    require_supervision(scope)
    chair = _required(chair, "chair", "meeting.field.chair")
    actor = _required(scope.actor(actor), "actor", "case.field.actor")
    if held_on > today:
        raise InputError("meeting.error.future", field="held_on", day=today.isoformat())
    with session_scope(engine) as s:
        if kind == Kind.CONSULTATION:
            if s.scalar(select(Town.id).where(scope.where(Town), Town.id == town_id)) is None:
                raise NotFoundError("meeting.error.place", place=town_id)
        else:
            area = s.execute(select(Area.id, Area.town_id)
                             .where(scope.where(Area), Area.id == area_id)).first()
            if area is None:
                raise NotFoundError("meeting.error.place", place=area_id)
            town_id = area.town_id
        items = agenda(engine, scope=scope, kind=kind, town_id=town_id, area_id=area_id,
                       today=today)
        if items.empty:
            raise RuleError("meeting.error.empty_agenda")
        meeting = Meeting(kind=kind.value, town_id=town_id, area_id=area_id, held_on=held_on,
                          chair=chair, attendees=(attendees or "").strip(), created_by=actor,
                          created_at=now())
        s.add(meeting)
        s.flush()
        s.add_all(MeetingItem(meeting_id=meeting.id, case_id=int(row.case_id),
                              reasons=",".join(row.reasons)) for row in items.itertuples())
        return meeting.id


def _item(s: Session, meeting_id: int, case_id: int, kind: Kind, scope: Scope) -> MeetingItem:
    row = s.execute(
        select(MeetingItem, Meeting.kind)
        .join(Meeting, Meeting.id == MeetingItem.meeting_id)
        .join(Case, Case.id == MeetingItem.case_id)
        .where(MeetingItem.meeting_id == meeting_id, MeetingItem.case_id == case_id,
               scope.where(Case))
    ).first()
    if row is None:
        raise NotFoundError("meeting.error.item", case_id=case_id)
    item, item_kind = row
    if item_kind != kind.value:
        raise RuleError("meeting.error.kind")
    if item.event_id is not None:
        raise RuleError("meeting.error.decided")
    return item


def _last_event_id(s: Session, case_id: int) -> int:
    return s.scalar(select(func.max(CaseEvent.id)).where(CaseEvent.case_id == case_id))


def record_decision(engine: Engine, *, scope: Scope, meeting_id: int, case_id: int, version: int,
                    actor: str, comment: str = "", track: str | None = None,
                    leader: str | None = None, deadline: dt.date | None = None,
                    department: str | None = None, today: dt.date | None = None) -> list[int]:
    """A consultation's decision on one agenda case: its case events and the item, in one
    transaction (all or nothing).

    A track, leader or department is the case action ``decide`` (which also takes a case sent to
    consultation back to handling); a new deadline is ``extend`` (what the extension rate counts);
    an opinion alone is a ``note``, which is all a case waiting for feedback can take. Returns the
    ids of the events written. Refusals are the case rules' (:mod:`minqing.cases`), "nothing
    decided" and "already decided".
    """
    require_supervision(scope)
    actor = scope.actor(actor)
    fields = {"track": track or None, "leader": (leader or "").strip() or None,
              "department": (department or "").strip() or None}
    if not any(fields.values()) and deadline is None and not (comment or "").strip():
        raise InputError("case.error.decision_empty", field="leader")
    with session_scope(engine) as s:
        item = _item(s, meeting_id, case_id, Kind.CONSULTATION, scope)
        status = s.scalar(select(Case.status).where(Case.id == case_id))
        steps: list[tuple[str, dict]] = []
        if any(fields.values()) or (status == CaseStatus.CONSULTATION.value and deadline):
            promised = deadline if fields["track"] == "promised" else None
            steps.append((casework.Action.DECIDE.value, {**fields, "promised": promised}))
        if deadline is not None and fields["track"] != "promised":
            steps.append((casework.Action.EXTEND.value, {"deadline": deadline}))
        if not steps:
            steps.append((casework.Action.NOTE.value, {}))
        events = []
        for action, extra in steps:
            case = casework.apply(s, case_id=case_id, version=version, action=action,
                                  actor=actor, comment=comment, today=today, scope=scope, **extra)
            version = case.version
            events.append(_last_event_id(s, case_id))
        item.event_id, item.last_event_id = events[0], events[-1]
        item.decision = (comment or "").strip()
        item.decided_by = actor.strip()
        return events


def record_rectification(engine: Engine, *, scope: Scope, meeting_id: int, case_id: int,
                         version: int, actor: str, criticism: str, rectify_by: dt.date | None,
                         today: dt.date | None = None) -> int:
    """A follow-up's criticism and rectification deadline on one case: the case action
    ``rectify`` and the item, one transaction. Returns the case event id."""
    require_supervision(scope)
    actor = scope.actor(actor)
    with session_scope(engine) as s:
        item = _item(s, meeting_id, case_id, Kind.FOLLOW_UP, scope)
        casework.apply(s, case_id=case_id, version=version, action=casework.Action.RECTIFY.value,
                       actor=actor, comment=criticism, today=today, scope=scope,
                       rectify_by=rectify_by)
        item.event_id = item.last_event_id = _last_event_id(s, case_id)
        item.decision = (criticism or "").strip()
        item.rectify_by = rectify_by
        item.decided_by = actor.strip()
        return item.event_id


def _meeting_scope(scope: Scope):
    """Meetings are held per town (and area): visible when their town is in scope."""
    return Meeting.town_id.in_(select(Town.id).where(scope.where(Town)))


def past_meetings(engine: Engine, *, scope: Scope, kind: str, town_id: int | None = None,
                  limit: int = 200) -> pd.DataFrame:
    """Meetings of ``kind`` in scope, newest first, with their item and decision counts."""
    counts = (select(MeetingItem.meeting_id, func.count().label("n_items"),
                     func.count(MeetingItem.event_id).label("n_decided"))
              .group_by(MeetingItem.meeting_id).subquery())
    stmt = (
        select(Meeting.id, Meeting.held_on, Town.name.label("town"), Area.name.label("area"),
               Meeting.chair, Meeting.attendees, counts.c.n_items.label("items"),
               counts.c.n_decided.label("decided"))
        .join(Town, Town.id == Meeting.town_id).outerjoin(Area, Area.id == Meeting.area_id)
        .outerjoin(counts, counts.c.meeting_id == Meeting.id)
        .where(_meeting_scope(scope), Meeting.kind == Kind(kind).value)
        .order_by(Meeting.held_on.desc(), Meeting.id.desc()).limit(limit)
    )
    if town_id is not None:
        stmt = stmt.where(Meeting.town_id == town_id)
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all(),
                             columns=["id", "held_on", "town", "area", "chair", "attendees",
                                      "items", "decided"])
    for col in ("items", "decided"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype(int)
    return frame


def meeting_minutes(engine: Engine, *, scope: Scope, meeting_id: int) -> dict | None:
    """A meeting and its items with what was decided, for the minutes; None when out of scope.

    Returns ``{"meeting": {...}, "items": DataFrame}``; item columns: case_id, code, title,
    grid, reasons (list), decision, changes (``{field: [old, new]}`` from the case event),
    action, decided_by, rectify_by, event_at.
    """
    head = (select(Meeting.id, Meeting.kind, Meeting.held_on, Meeting.chair, Meeting.attendees,
                   Meeting.created_by, Meeting.town_id, Town.name.label("town"),
                   Area.name.label("area"))
            .join(Town, Town.id == Meeting.town_id).outerjoin(Area, Area.id == Meeting.area_id)
            .where(_meeting_scope(scope), Meeting.id == meeting_id))
    body = (select(MeetingItem.case_id, Case.code, Case.title, Grid.name.label("grid"),
                   MeetingItem.reasons, MeetingItem.decision, MeetingItem.decided_by,
                   MeetingItem.rectify_by, MeetingItem.event_id, MeetingItem.last_event_id)
            .join(Case, Case.id == MeetingItem.case_id).join(Grid, Grid.id == Case.grid_id)
            .where(MeetingItem.meeting_id == meeting_id).order_by(MeetingItem.id))
    events = (select(CaseEvent.id, CaseEvent.action, CaseEvent.data, CaseEvent.at)
              .join(MeetingItem, and_(MeetingItem.case_id == CaseEvent.case_id,
                                      CaseEvent.id.between(MeetingItem.event_id,
                                                           MeetingItem.last_event_id)))
              .where(MeetingItem.meeting_id == meeting_id).order_by(CaseEvent.id))
    with engine.connect() as conn:
        meeting = conn.execute(head).mappings().first()
        if meeting is None:
            return None
        rows = conn.execute(body).mappings().all()
        written = conn.execute(events).mappings().all()
    items = pd.DataFrame([{
        **{k: r[k] for k in ("case_id", "code", "title", "grid", "decision", "decided_by",
                             "rectify_by")},
        **_decision(r, written),
        "reasons": [x for x in r["reasons"].split(",") if x],
    } for r in rows], columns=["case_id", "code", "title", "grid", "decision", "decided_by",
                               "rectify_by", "action", "event_at", "changes", "reasons"])
    return {"meeting": dict(meeting), "items": items}


def _decision(item, events) -> dict:
    """The actions (joined by "+"), time and merged field changes of an item's case events."""
    mine = [e for e in events if item["event_id"] is not None
            and item["event_id"] <= e["id"] <= (item["last_event_id"] or item["event_id"])]
    if not mine:
        return {"action": None, "event_at": None, "changes": {}}
    changes: dict = {}
    for e in mine:
        data = json.loads(e["data"]) if e["data"] else {}
        for name, change in (data.items() if isinstance(data, dict) else ()):
            if name != "status":
                changes[name] = [changes.get(name, change)[0], change[1]] if isinstance(
                    change, list) and len(change) == 2 else change
    return {"action": "+".join(e["action"] for e in mine), "event_at": mine[-1]["at"],
            "changes": changes}


class Rectification(StrEnum):
    MET = "met"
    MISSED = "missed"
    PENDING = "pending"


def rectifications(engine: Engine, *, scope: Scope, town_id: int | None = None,
                   area_id: int | None = None, today: dt.date | None = None) -> pd.DataFrame:
    """Every rectification deadline set by a follow-up in scope, with met / missed / pending.

    Columns: meeting_id, held_on, area, case_id, code, title, rectify_by, closed_on, state,
    criticism. Missed first, then pending by date.
    """
    today = today or clock_today()
    stmt = (select(Meeting.id.label("meeting_id"), Meeting.held_on, Area.name.label("area"),
                   Case.id.label("case_id"), Case.code, Case.title, MeetingItem.rectify_by,
                   Case.closed_on, MeetingItem.decision.label("criticism"))
            .join(Meeting, Meeting.id == MeetingItem.meeting_id)
            .join(Case, Case.id == MeetingItem.case_id)
            .outerjoin(Area, Area.id == Meeting.area_id)
            .where(scope.where(Case), MeetingItem.rectify_by.is_not(None),
                   Meeting.kind == Kind.FOLLOW_UP.value))
    if town_id is not None:
        stmt = stmt.where(Meeting.town_id == town_id)
    if area_id is not None:
        stmt = stmt.where(Meeting.area_id == area_id)
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all(),
                             columns=["meeting_id", "held_on", "area", "case_id", "code", "title",
                                      "rectify_by", "closed_on", "criticism"])
    frame["state"] = [rectification_state(r, c, today).value
                      for r, c in zip(frame["rectify_by"], frame["closed_on"], strict=True)]
    order = {Rectification.MISSED.value: 0, Rectification.PENDING.value: 1,
             Rectification.MET.value: 2}
    frame["_o"] = frame["state"].map(order)
    return frame.sort_values(["_o", "rectify_by"]).drop(columns="_o").reset_index(drop=True)


def rectification_state(rectify_by: dt.date, closed_on: dt.date | None,
                        today: dt.date) -> Rectification:
    """Met (closed by the date), missed (the date passed otherwise) or pending."""
    if closed_on is not None and not pd.isna(closed_on) and closed_on <= rectify_by:
        return Rectification.MET
    if rectify_by < today:
        return Rectification.MISSED
    return Rectification.PENDING


def agenda_case(engine: Engine, *, scope: Scope, case_id: int) -> dict | None:
    """The fields a decision form shows and sends back (track, status, deadline, version)."""
    stmt = select(Case.id, Case.code, Case.track, Case.status, Case.deadline, Case.version,
                  Case.rectify_by).where(scope.where(Case), Case.id == case_id)
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    return dict(row) if row else None
