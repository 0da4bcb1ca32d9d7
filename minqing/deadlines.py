"""Deadlines and "overdue", defined once and used everywhere (map, grid, case, counters).

Every case has a time limit (DESIGN.md §1, 四办). The limit depends on the track:

========== =============================================== ======================
track      limit                                           counted in
========== =============================================== ======================
immediate  3 working days (handled inside the village)      working days
promised   the date promised to the resident               a calendar date
liaison    20 working days for the department to answer     working days
supervised 10 working days for the village committee        working days
========== =============================================== ======================

A weekly consultation (会诊) may replace the deadline with a new date; that date is stored on the
case and this module only judges it.

Working days are Monday to Friday, minus the State Council's public holidays, plus the weekend
days worked in exchange (调休). Those are data, not code: a
:class:`~minqing.workcalendar.WorkCalendar` kept in the store and extended by an admin each year
(see :mod:`minqing.workcalendar`). Every function here takes the calendar to count with; without
one it uses the ``chinesecalendar`` package's (the store's seed). Outside the covered years plain
Mon–Fri is used, and ``minqing check`` says so.

"Days left" is counted in calendar days, because that is what a resident and a cadre read off a
wall calendar; a negative value is the number of days overdue.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ColumnElement, Date, Integer, and_, case, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from minqing.models import Case
from minqing.vocab import OPEN_STATUSES, Track
from minqing.workcalendar import WorkCalendar, standard

_OPEN = tuple(status.value for status in OPEN_STATUSES)


#: Limits in working days per track; the promised track uses the promised date instead.
WORKING_DAY_LIMITS: dict[str, int] = {
    Track.IMMEDIATE.value: 3,
    Track.LIAISON.value: 20,
    Track.SUPERVISED.value: 10,
}

#: Used only when a promised case carries no date (legacy or imported records): the state machine
#: in :mod:`minqing.cases` refuses to create such a case.
DEFAULT_PROMISE_WORKING_DAYS = 15

#: A case is "due soon" when this many calendar days or fewer are left.
DUE_SOON_DAYS = 3


class DeadlineState(StrEnum):
    """How a case stands against its deadline, for colours and badges."""

    CLOSED = "closed"
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    ON_TRACK = "on_track"


def is_working_day(day: dt.date, calendar: WorkCalendar | None = None) -> bool:
    """Mon–Fri unless a public holiday, or a weekend day worked in exchange."""
    return (calendar or standard()).is_working_day(day)


def add_working_days(start: dt.date, days: int, calendar: WorkCalendar | None = None) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted).

    A case opened on a Friday with a 3-working-day limit is due the next Wednesday.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    calendar = calendar or standard()
    day = start
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date,
                         calendar: WorkCalendar | None = None) -> int:
    """Working days after ``start`` up to and including ``end``; negative when ``end`` is earlier."""
    if end < start:
        return -working_days_between(end, start, calendar)
    calendar = calendar or standard()
    return sum(calendar.is_working_day(start + dt.timedelta(days=n))
               for n in range(1, (end - start).days + 1))


def deadline_for(track: str, opened_on: dt.date, promised: dt.date | None = None,
                 calendar: WorkCalendar | None = None) -> dt.date:
    """The deadline of a case put on ``track`` on ``opened_on``.

    Parameters
    ----------
    track : a :class:`~minqing.vocab.Track` value.
    opened_on : the day the case was registered (or put on this track).
    promised : the date promised to the resident; used on the promised track only.
    calendar : the working-day calendar (default: :func:`minqing.workcalendar.standard`).

    Returns
    -------
    The last day on which closing the case is on time.

    Examples
    --------
    >>> deadline_for("immediate", dt.date(2026, 11, 20))  # a Friday
    datetime.date(2026, 11, 25)
    """
    track = Track(track).value
    if track == Track.PROMISED.value:
        return promised or add_working_days(opened_on, DEFAULT_PROMISE_WORKING_DAYS, calendar)
    return add_working_days(opened_on, WORKING_DAY_LIMITS[track], calendar)


def open_clause() -> ColumnElement[bool]:
    """SQL: the case is open (not yet closed, 销号).

    Spelled ``status IN (open statuses)`` rather than ``status != 'closed'`` so that the
    ``(town_id, status)`` / ``(grid_id, status)`` indexes answer it without reading closed cases,
    which are the vast majority.
    """
    return Case.status.in_(_OPEN)


def is_open(status: str) -> bool:
    """Python twin of :func:`open_clause`."""
    return status in _OPEN


def overdue_clause(today: dt.date) -> ColumnElement[bool]:
    """SQL: the case is still open and its deadline has passed (a case due today is not late)."""
    return and_(open_clause(), Case.deadline < today)


def is_overdue(status: str, deadline: dt.date, today: dt.date) -> bool:
    """Python twin of :func:`overdue_clause`, for records already in memory."""
    return is_open(status) and deadline < today


def due_soon_clause(today: dt.date) -> ColumnElement[bool]:
    """SQL twin of :attr:`DeadlineState.DUE_SOON`: open, not overdue, and due within
    :data:`DUE_SOON_DAYS` calendar days."""
    return and_(open_clause(), Case.deadline >= today,
                Case.deadline <= today + dt.timedelta(days=DUE_SOON_DAYS))


class _DaysBetween(FunctionElement):
    """``end - start`` in whole days, portable between SQLite and PostgreSQL."""

    type = Integer()
    inherit_cache = True


@compiles(_DaysBetween)
def _days_between_pg(element, compiler, **kw):
    start, end = element.clauses
    return f"({compiler.process(end, **kw)} - {compiler.process(start, **kw)})"


@compiles(_DaysBetween, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    start, end = element.clauses
    return (f"CAST(julianday({compiler.process(end, **kw)}) - "
            f"julianday({compiler.process(start, **kw)}) AS INTEGER)")


def days_overdue_clause(today: dt.date) -> ColumnElement[int]:
    """SQL: calendar days the case is past its deadline; 0 when it is not overdue."""
    late = _DaysBetween(Case.deadline, literal(today, Date()))
    return case((overdue_clause(today), late), else_=0)


def days_overdue(status: str, deadline: dt.date, today: dt.date) -> int:
    """Python twin of :func:`days_overdue_clause`."""
    return (today - deadline).days if is_overdue(status, deadline, today) else 0


def days_left(deadline: dt.date, today: dt.date) -> int:
    """Calendar days until the deadline (0 = due today); negative means that many days overdue."""
    return (deadline - today).days


def deadline_state(status: str, deadline: dt.date, today: dt.date) -> DeadlineState:
    """Closed, overdue, due within :data:`DUE_SOON_DAYS`, or on track."""
    if not is_open(status):
        return DeadlineState.CLOSED
    if is_overdue(status, deadline, today):
        return DeadlineState.OVERDUE
    if days_left(deadline, today) <= DUE_SOON_DAYS:
        return DeadlineState.DUE_SOON
    return DeadlineState.ON_TRACK
