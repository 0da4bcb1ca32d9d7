"""The working-day calendar as data: seeded from chinesecalendar, extended by an admin's CSV,
checked for missing years; deadlines across the 2026/2027 boundary."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from minqing import cli, workcalendar
from minqing.cases import NewCase, open_case
from minqing.deadlines import add_working_days, deadline_for
from minqing.errors import InputError
from minqing.models import CalendarDay, CalendarYear
from minqing.store import get_engine, session_scope
from tests.world import World, build_world

D = dt.date
NOTICE_2027 = "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-06,workday,春节\n"


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def _write(tmp_path, text: str):
    path = tmp_path / "notice.csv"
    path.write_text(text, encoding="utf-8")
    return path


def _open_immediate(world: World, day: dt.date):
    with session_scope(get_engine(world.url)) as s:
        return open_case(s, new=NewCase(grid_id=world.grid_id, title="路灯", track="immediate",
                                        responsible="李"), actor="李", today=day)


def test_the_store_is_seeded_from_the_package(db_url):
    engine = get_engine(db_url)
    years = dict(workcalendar.covered_years(engine))
    assert {2025, 2026} <= set(years)
    assert 2027 not in years
    assert years[2026].startswith("chinesecalendar")
    stored = workcalendar.load(engine)
    # the State Council's 2026 notice: Spring Festival 15-23 February, worked Saturday 14 Feb
    assert not stored.is_working_day(D(2026, 2, 16))
    assert stored.is_working_day(D(2026, 2, 14))
    assert stored.is_working_day(D(2026, 2, 24))


def test_deadlines_across_the_year_boundary(world, tmp_path):
    """Opened Wednesday 30 December 2026, 3 working days. Without 2027 in the calendar, Friday
    1 January counts as a working day: due Monday 4 January. With the notice imported, New Year's
    Day is a holiday: due Tuesday 5 January."""
    engine = get_engine(world.url)
    before = _open_immediate(world, D(2026, 12, 30))
    assert before.deadline == D(2027, 1, 4)
    assert workcalendar.gaps(engine, today=D(2026, 12, 30)) == [2027]
    assert cli.main(["check", "--url", world.url]) == 1

    assert cli.main(["calendar", "import", str(_write(tmp_path, NOTICE_2027)),
                     "--url", world.url]) == 0
    after = _open_immediate(world, D(2026, 12, 30))
    assert after.deadline == D(2027, 1, 5)
    assert workcalendar.gaps(engine, today=D(2026, 12, 30)) == []
    assert cli.main(["check", "--url", world.url]) == 0
    calendar = workcalendar.load(engine)
    assert calendar.is_working_day(D(2027, 2, 6))  # a Saturday worked for the Spring Festival
    assert add_working_days(D(2027, 2, 5), 1, calendar) == D(2027, 2, 6)


def test_without_a_calendar_the_package_counts(world):
    assert deadline_for("immediate", D(2026, 9, 24)) == D(2026, 9, 30)  # 25-27 Sep: mid-autumn
    assert deadline_for("immediate", D(2026, 12, 30)) == D(2027, 1, 4)  # 2027: Mon-Fri only


def test_today_in_an_uncovered_year_is_a_gap(world):
    assert workcalendar.gaps(get_engine(world.url), today=D(2027, 1, 4)) == [2027]
    assert workcalendar.gaps(get_engine(world.url), today=D(2026, 11, 20)) == []


@pytest.mark.parametrize(("text", "key", "row"), [
    ("date,kind,name\n2027-01-01,holiday,元旦\n2027-13-01,holiday,x\n", "calendar.error.date", 3),
    ("date,kind,name\n2027-01-01,rest,元旦\n", "calendar.error.kind", 2),
    ("date,kind,name\n2027-01-01,holiday,元旦\n2027-01-01,holiday,元旦\n", "calendar.error.twice", 3),
    ("date,kind,name\n2027-01-04,workday,x\n", "calendar.error.weekday", 2),
    ("day,kind\n2027-01-01,holiday\n", "calendar.error.columns", None),
    ("date,kind,name\n", "calendar.error.empty", None),
])
def test_a_wrong_file_is_refused_whole_naming_the_row(world, tmp_path, text, key, row):
    engine = get_engine(world.url)
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(CalendarDay)).scalar()
    with pytest.raises(InputError) as err:
        workcalendar.import_csv(engine, _write(tmp_path, text))
    assert err.value.key == key
    assert err.value.params.get("row") == row
    if row:
        assert f"第 {row} 行" in err.value.message("zh")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CalendarDay)).scalar() == before
        assert conn.scalar(select(CalendarYear.year).where(CalendarYear.year == 2027)) is None
    assert cli.main(["calendar", "import", str(tmp_path / "notice.csv"), "--url", world.url]) == 2


def test_importing_a_year_again_replaces_it(world, tmp_path):
    engine = get_engine(world.url)
    workcalendar.import_csv(engine, _write(tmp_path, NOTICE_2027))
    workcalendar.import_csv(engine, _write(tmp_path, "date,kind,name\n2027-01-02,holiday,元旦\n"))
    calendar = workcalendar.load(engine)
    assert calendar.is_working_day(D(2027, 1, 1)) is True  # a Friday, no longer listed
    assert dict(workcalendar.covered_years(engine))[2027] == "notice.csv"


def test_seed_adds_only_missing_years(world):
    engine = get_engine(world.url)
    with session_scope(engine) as s:
        s.query(CalendarDay).filter(CalendarDay.day.between(D(2025, 1, 1), D(2025, 12, 31))).delete()
        s.query(CalendarYear).filter(CalendarYear.year == 2025).delete()
    assert workcalendar.seed(engine) == [2025]
    assert workcalendar.seed(engine) == []
    assert not workcalendar.load(engine).is_working_day(D(2025, 10, 8))  # National Day 2025
