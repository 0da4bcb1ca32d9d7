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
days worked in exchange (调休). The calendar below covers 2025 and 2026 as published; outside it
plain Mon–Fri is used. Add a year by extending ``_HOLIDAYS`` and ``_MAKE_UP_WORKDAYS``.

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

_OPEN = tuple(status.value for status in OPEN_STATUSES)


def _span(first: str, last: str) -> set[dt.date]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return {start + dt.timedelta(days=n) for n in range((end - start).days + 1)}


# Public holidays (国务院办公厅 notices for 2025 and 2026).
_HOLIDAYS: frozenset[dt.date] = frozenset().union(
    # 2025
    _span("2025-01-01", "2025-01-01"), _span("2025-01-28", "2025-02-04"),
    _span("2025-04-04", "2025-04-06"), _span("2025-05-01", "2025-05-05"),
    _span("2025-05-31", "2025-06-02"), _span("2025-10-01", "2025-10-08"),
    # 2026
    _span("2026-01-01", "2026-01-03"), _span("2026-02-15", "2026-02-23"),
    _span("2026-04-04", "2026-04-06"), _span("2026-05-01", "2026-05-05"),
    _span("2026-06-19", "2026-06-21"), _span("2026-09-25", "2026-09-27"),
    _span("2026-10-01", "2026-10-07"),
)

# Weekend days that are working days in exchange for a holiday (调休上班).
_MAKE_UP_WORKDAYS: frozenset[dt.date] = frozenset(
    dt.date.fromisoformat(day) for day in (
        "2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
    )
)

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


def is_working_day(day: dt.date) -> bool:
    """Mon–Fri unless a public holiday, or a weekend day worked in exchange."""
    if day in _MAKE_UP_WORKDAYS:
        return True
    return day.weekday() < 5 and day not in _HOLIDAYS


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted).

    A case opened on a Friday with a 3-working-day limit is due the next Wednesday.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end``; negative when ``end`` is earlier."""
    if end < start:
        return -working_days_between(end, start)
    return sum(is_working_day(start + dt.timedelta(days=n)) for n in range(1, (end - start).days + 1))


def deadline_for(track: str, opened_on: dt.date, promised: dt.date | None = None) -> dt.date:
    """The deadline of a case put on ``track`` on ``opened_on``.

    Parameters
    ----------
    track : a :class:`~minqing.vocab.Track` value.
    opened_on : the day the case was registered (or put on this track).
    promised : the date promised to the resident; used on the promised track only.

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
        return promised or add_working_days(opened_on, DEFAULT_PROMISE_WORKING_DAYS)
    return add_working_days(opened_on, WORKING_DAY_LIMITS[track])


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
