"""Deadline arithmetic: working days across weekends and holidays, per-track limits, overdue."""

from __future__ import annotations

import datetime as dt

import pytest

from minqing.deadlines import (
    DeadlineState,
    add_working_days,
    days_left,
    deadline_for,
    deadline_state,
    is_overdue,
    is_working_day,
    working_days_between,
)

D = dt.date


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (D(2026, 11, 16), 3, D(2026, 11, 19)),  # Mon + 3 = Thu
        (D(2026, 11, 20), 1, D(2026, 11, 23)),  # Fri + 1 skips the weekend
        (D(2026, 11, 20), 3, D(2026, 11, 25)),  # Fri + 3 = Wed
        (D(2026, 11, 21), 1, D(2026, 11, 23)),  # opened on a Saturday
        (D(2026, 11, 16), 10, D(2026, 11, 30)),  # two full weeks
        (D(2026, 11, 20), 0, D(2026, 11, 20)),
    ],
)
def test_add_working_days_skips_weekends(start, n, expected):
    assert add_working_days(start, n) == expected


def test_national_day_week_is_not_worked_but_its_make_up_saturday_is():
    assert not is_working_day(D(2026, 10, 1))
    assert not is_working_day(D(2026, 10, 7))
    assert is_working_day(D(2026, 10, 10))  # Saturday worked in exchange (调休)
    assert not is_working_day(D(2026, 10, 11))
    # Wed 30 Sep + 3 working days: 8 Oct (Thu), 9 Oct (Fri), 10 Oct (Sat, make-up day)
    assert add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)


def test_spring_festival_2026():
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)  # make-up Saturday
    assert add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)  # nine days off


def test_working_days_between_is_the_inverse_and_signed():
    start = D(2026, 11, 20)
    for n in range(25):
        assert working_days_between(start, add_working_days(start, n)) == n
    assert working_days_between(D(2026, 11, 25), D(2026, 11, 20)) == -3


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError, match="negative"):
        add_working_days(D(2026, 11, 20), -1)


@pytest.mark.parametrize(
    ("track", "expected"),
    [("immediate", D(2026, 11, 25)), ("supervised", D(2026, 12, 4)), ("liaison", D(2026, 12, 18))],
)
def test_track_limits_are_in_working_days(track, expected):
    assert deadline_for(track, D(2026, 11, 20)) == expected


def test_promised_track_uses_the_promised_date():
    assert deadline_for("promised", D(2026, 11, 20), D(2027, 1, 15)) == D(2027, 1, 15)
    # without a date (legacy records) it falls back to a default limit rather than failing
    assert deadline_for("promised", D(2026, 11, 20)) > D(2026, 11, 20)


def test_unknown_track_is_refused():
    with pytest.raises(ValueError, match="someday"):
        deadline_for("someday", D(2026, 11, 20))


def test_overdue_and_days_left():
    today = D(2026, 11, 20)
    assert is_overdue("handling", D(2026, 11, 19), today)
    assert not is_overdue("handling", today, today)  # due today is not yet overdue
    assert not is_overdue("closed", D(2026, 1, 1), today)
    assert days_left(D(2026, 11, 23), today) == 3
    assert days_left(D(2026, 11, 17), today) == -3


def test_deadline_state():
    today = D(2026, 11, 20)
    assert deadline_state("closed", D(2026, 1, 1), today) is DeadlineState.CLOSED
    assert deadline_state("handling", D(2026, 11, 19), today) is DeadlineState.OVERDUE
    assert deadline_state("handling", D(2026, 11, 23), today) is DeadlineState.DUE_SOON
    assert deadline_state("registered", D(2026, 12, 23), today) is DeadlineState.ON_TRACK


def test_sql_and_python_overdue_agree(db_url):
    """The SQL clause the map and counters use flags exactly the cases the Python twin flags."""
    from sqlalchemy import select

    from minqing.cases import NewCase, open_case
    from minqing.deadlines import overdue_clause
    from minqing.models import Case
    from minqing.store import get_engine, session_scope
    from tests.world import build_world

    world = build_world(db_url)
    with session_scope(get_engine(db_url)) as s:
        for offset in (-5, 0, 5):
            open_case(s, new=NewCase(grid_id=world.grid_id, title=f"t{offset}",
                                     track="immediate", responsible="李"),
                      actor="李", today=D(2026, 11, 20) + dt.timedelta(days=offset))
    today = D(2026, 11, 24)
    with session_scope(get_engine(db_url)) as s:
        rows = s.execute(select(Case.title, Case.status, Case.deadline)).all()
        flagged = set(s.scalars(select(Case.title).where(overdue_clause(today))))
    assert flagged == {t for t, status, deadline in rows if is_overdue(status, deadline, today)}
    assert flagged == {"t-5"}


def test_sql_and_python_open_and_days_overdue_agree(db_url):
    """open_clause / is_open and days_overdue_clause / days_overdue flag the same cases alike."""
    from sqlalchemy import select

    from minqing.deadlines import days_overdue, days_overdue_clause, is_open, open_clause
    from minqing.models import Case
    from minqing.store import get_engine, session_scope
    from tests.world import build_world

    world = build_world(db_url)
    today = D(2026, 11, 24)
    with session_scope(get_engine(db_url)) as s:
        for n, (status, deadline) in enumerate([
                ("handling", D(2026, 11, 14)), ("registered", D(2026, 11, 23)),
                ("feedback", today), ("closed", D(2026, 11, 1)), ("result", D(2026, 12, 31))]):
            s.add(Case(code=f"C{n}", grid_id=world.grid_id, town_id=world.town_id, title=status,
                       track="immediate", status=status, opened_on=D(2026, 11, 1),
                       deadline=deadline, responsible="李"))
    with session_scope(get_engine(db_url)) as s:
        rows = s.execute(select(Case.status, Case.deadline, open_clause(),
                                days_overdue_clause(today))).all()
    assert {r.status: int(r[3]) for r in rows} == {
        "handling": 10, "registered": 1, "feedback": 0, "closed": 0, "result": 0}
    for status, deadline, opened, late in rows:
        assert bool(opened) == is_open(status)
        assert late == days_overdue(status, deadline, today)
