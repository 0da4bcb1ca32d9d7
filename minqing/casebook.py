"""Reading cases: the open-case backlog, one case with its whole history, a household's cases.

Writes live in :mod:`minqing.cases`; this module only reads, always within a scope, and flags
deadlines with :mod:`minqing.deadlines` so every page shows the same "overdue".

"Open" is :func:`minqing.deadlines.open_clause`, the one definition the KPIs and the map use too.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, select

from minqing.access import protect, protect_row, protect_value
from minqing.clock import today as clock_today
from minqing.deadlines import (
    DeadlineState,
    days_left,
    days_overdue,
    deadline_state,
    open_clause,
)
from minqing.models import Area, Case, CaseEvent, DiaryEntry, Grid, Household, Town
from minqing.scope import Scope

BACKLOG_COLUMNS = [
    "id", "code", "title", "track", "status", "opened_on", "deadline", "days_left", "overdue",
    "days_overdue", "deadline_state", "responsible", "leader", "green_channel", "is_risk",
    "grid_id", "grid", "household_id", "household", "version", "lat", "lon",
]


def _with_deadlines(frame: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """Add days_left / overdue / deadline_state, computed by :mod:`minqing.deadlines` only."""
    states = [deadline_state(s, d, today) for s, d in zip(frame["status"], frame["deadline"],
                                                          strict=True)]
    frame["days_left"] = [days_left(d, today) for d in frame["deadline"]]
    frame["deadline_state"] = [state.value for state in states]
    frame["overdue"] = frame["deadline_state"] == DeadlineState.OVERDUE.value
    return frame


def _flagged(row, today: dt.date) -> tuple:
    """A backlog row with days_left / overdue / days_overdue / deadline_state spliced in after
    the deadline."""
    state = deadline_state(row.status, row.deadline, today)
    return (*row[:7], days_left(row.deadline, today), state is DeadlineState.OVERDUE,
            days_overdue(row.status, row.deadline, today), state.value, *row[7:])


def open_cases(engine: Engine, *, scope: Scope, grid_id: int | None = None,
               household_id: int | None = None, today: dt.date | None = None) -> pd.DataFrame:
    """The backlog: open cases in scope (optionally one grid or household), overdue first.

    Columns are :data:`BACKLOG_COLUMNS`; ``green_channel`` marks cases sent to a district leader.
    Flags and order are computed on plain tuples and the frame is built once: with a few hundred
    rows, pandas column operations would cost more than the query itself.
    """
    scope.require_person_level()
    today = today or clock_today()
    stmt = (
        select(
            Case.id, Case.code, Case.title, Case.track, Case.status, Case.opened_on,
            Case.deadline, Case.responsible, Case.leader, Case.green_channel, Case.is_risk,
            Case.grid_id, Grid.name.label("grid"), Case.household_id,
            Household.head_name.label("household"), Case.version, Household.lat, Household.lon,
        )
        .join(Grid, Grid.id == Case.grid_id)
        .outerjoin(Household, Household.id == Case.household_id)
        .where(scope.where(Case), open_clause())
    )
    if grid_id is not None:
        stmt = stmt.where(Case.grid_id == grid_id)
    if household_id is not None:
        stmt = stmt.where(Case.household_id == household_id)
    with engine.connect() as conn:
        rows = [_flagged(row, today) for row in conn.execute(stmt)]
    rows.sort(key=lambda r: (not r[8], r[6], r[0]))  # overdue first, then by deadline
    return protect(pd.DataFrame(rows, columns=BACKLOG_COLUMNS), scope, _NAMES)


_NAMES = {"responsible": "name", "leader": "name", "household": "name"}


def household_cases(engine: Engine, *, scope: Scope, household_id: int,
                    today: dt.date | None = None) -> pd.DataFrame:
    """Every case about a household, open or closed, newest first, with deadline flags."""
    scope.require_person_level()
    today = today or clock_today()
    stmt = (
        select(Case.id, Case.code, Case.title, Case.track, Case.status, Case.opened_on,
               Case.deadline, Case.closed_on, Case.responsible, Case.green_channel,
               Case.satisfaction)
        .where(scope.where(Case), Case.household_id == household_id)
        .order_by(Case.opened_on.desc(), Case.id.desc())
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    frame = pd.DataFrame(rows, columns=["id", "code", "title", "track", "status", "opened_on",
                                        "deadline", "closed_on", "responsible", "green_channel",
                                        "satisfaction"])
    return _with_deadlines(protect(frame, scope, _NAMES), today)


@dataclass(frozen=True)
class CaseDetail:
    """One case as the case page shows it: the record, where it is, and its deadline state."""

    case: dict[str, object]
    grid: str
    town: str
    area: str
    household: str | None
    days_left: int
    deadline_state: str
    entry: dict[str, object] | None = None  # the diary entry the case was opened from


def case_detail(engine: Engine, *, scope: Scope, case_id: int,
                today: dt.date | None = None) -> CaseDetail | None:
    """The case with its grid, town, area and household names; None if absent or out of scope."""
    scope.require_person_level()
    today = today or clock_today()
    stmt = (
        select(*Case.__table__.columns, Grid.name.label("grid_name"), Town.name.label("town_name"),
               Area.name.label("area_name"), Household.head_name.label("household_name"),
               DiaryEntry.entry_date.label("entry_date"), DiaryEntry.text.label("entry_text"),
               DiaryEntry.source.label("entry_source"))
        .join(Grid, Grid.id == Case.grid_id)
        .join(Town, Town.id == Case.town_id)
        .join(Area, Area.id == Grid.area_id)
        .outerjoin(Household, Household.id == Case.household_id)
        .outerjoin(DiaryEntry, DiaryEntry.id == Case.diary_entry_id)
        .where(scope.where(Case), Case.id == case_id)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    case = protect_row({column.name: row[column.name] for column in Case.__table__.columns},
                       scope, _NAMES)
    state = deadline_state(case["status"], case["deadline"], today)
    return CaseDetail(case=case, grid=row["grid_name"], town=row["town_name"],
                      area=row["area_name"],
                      household=protect_value(row["household_name"], scope, "name"),
                      days_left=days_left(case["deadline"], today), deadline_state=state.value,
                      entry={"date": row["entry_date"], "text": row["entry_text"],
                             "source": row["entry_source"]} if row["entry_text"] else None)


def _decode(data: str | None) -> dict[str, object]:
    """The event's changed fields; imported history may hold plain text or other JSON shapes."""
    try:
        value = json.loads(data or "{}")
    except ValueError:
        return {"data": data}
    return value if isinstance(value, dict) else {"data": value}


def case_history(engine: Engine, *, scope: Scope, case_id: int) -> list[dict[str, object]]:
    """Every event of a case in the order it was appended, changed fields decoded from JSON."""
    scope.require_person_level()
    stmt = (
        select(*CaseEvent.__table__.columns)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(scope.where(Case), CaseEvent.case_id == case_id)
        .order_by(CaseEvent.id)  # append order is the history's order, whatever the clocks said
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    events = []
    for row in rows:
        event = protect_row(row, scope, {"actor": "name"})
        event["changes"] = _masked_changes(_decode(event.pop("data")), scope)
        events.append(event)
    return events


def _masked_changes(changes: dict[str, object], scope: Scope) -> dict[str, object]:
    """Changed fields holding names ([before, after] pairs) masked like the case's own fields."""
    if scope.reveals_personal_data:
        return changes
    return {name: ([protect_value(v, scope, "name") if isinstance(v, str) else v for v in value]
                   if name in _NAMES and isinstance(value, list) else value)
            for name, value in changes.items()}
