"""Deadlines and "overdue", defined once and used everywhere (map, grid, case, counters)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_

from minqing.models import Case
from minqing.vocab import CaseStatus


def overdue_clause(today: dt.date) -> ColumnElement[bool]:
    """SQL: the case is still open and its deadline has passed."""
    return and_(Case.status != CaseStatus.CLOSED.value, Case.deadline < today)


def is_overdue(status: str, deadline: dt.date, today: dt.date) -> bool:
    """Python twin of :func:`overdue_clause`, for records already in memory."""
    return status != CaseStatus.CLOSED.value and deadline < today
