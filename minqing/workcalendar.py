"""The working-day calendar, as data: which years it covers, their public holidays, and the weekend
days worked in exchange (调休上班).

The State Council's General Office publishes each year's holidays in a notice near the end of the
year before. The calendar is seeded from the ``chinesecalendar`` package, which transcribes those
notices (2004 onwards), and is kept in the store (``calendar_years``, ``calendar_days``), so an
admin extends it when a new notice comes out without a new release: ``minqing calendar import
FILE.csv`` with rows ``date,kind,name`` (``kind`` is ``holiday`` or ``workday``), e.g.::

    date,kind,name
    2027-01-01,holiday,元旦
    2027-02-06,workday,春节

A day in a year the calendar does not cover falls back to Monday-Friday, which is wrong around
the holidays; :func:`gaps` finds the years that matter (today's, and those of open cases'
deadlines) so that ``minqing check`` fails and supervisors see a banner until they are imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, delete, extract, func, insert, select

from minqing.clock import now
from minqing.clock import today as clock_today
from minqing.errors import InputError
from minqing.models import CalendarDay, CalendarYear, Case

HOLIDAY, WORKDAY = "holiday", "workday"
KINDS = (HOLIDAY, WORKDAY)


@dataclass(frozen=True)
class WorkCalendar:
    """Holidays and make-up working days of the covered ``years``."""

    years: frozenset[int]
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]

    def covers(self, day: dt.date) -> bool:
        return day.year in self.years

    def is_working_day(self, day: dt.date) -> bool:
        """Mon-Fri unless a public holiday, or a weekend day worked in exchange for one."""
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


# --- the package (seed) ---------------------------------------------------------------------------

def package_source() -> str:
    import chinese_calendar

    return f"chinesecalendar {chinese_calendar.__version__}"


def package_rows() -> tuple[list[dict], list[dict]]:
    """The package's calendar as rows of ``calendar_years`` and ``calendar_days``."""
    import chinese_calendar

    def name(value) -> str:
        return getattr(chinese_calendar.Holiday(value), "chinese", "") if value else ""

    listed = [{"day": day, "kind": HOLIDAY, "name": name(value)}
              for day, value in chinese_calendar.holidays.items()]
    listed += [{"day": day, "kind": WORKDAY, "name": name(value)}
               for day, value in chinese_calendar.workdays.items() if day.weekday() >= 5]
    loaded = now()
    years = sorted({row["day"].year for row in listed})
    covered = [{"year": year, "source": package_source(), "loaded_at": loaded}
               for year in range(years[0], years[-1] + 1)]
    return covered, listed


@lru_cache(maxsize=1)
def standard() -> WorkCalendar:
    """The package's calendar, for work done away from a store (the demo generator, tests)."""
    covered, listed = package_rows()
    return _calendar({row["year"] for row in covered}, listed)


def _calendar(years: Iterable[int], listed: Iterable[dict]) -> WorkCalendar:
    listed = list(listed)
    return WorkCalendar(
        years=frozenset(years),
        holidays=frozenset(r["day"] for r in listed if r["kind"] == HOLIDAY),
        workdays=frozenset(r["day"] for r in listed if r["kind"] == WORKDAY),
    )


# --- the store --------------------------------------------------------------------------------------

def _stamp(engine: Engine) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count(), func.max(CalendarYear.loaded_at))).one())


@lru_cache(maxsize=16)
def _load(engine: Engine, stamp: tuple) -> WorkCalendar:
    with engine.connect() as conn:
        years = conn.scalars(select(CalendarYear.year)).all()
        listed = conn.execute(select(CalendarDay.day, CalendarDay.kind)).mappings().all()
    return _calendar(years, listed)


def load(engine: Engine) -> WorkCalendar:
    """The calendar kept in the store (re-read only when a year has been loaded since)."""
    return _load(engine, _stamp(engine))


def _date(raw: str, row: int) -> dt.date:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InputError("calendar.error.date", field="date", row=row, value=raw) from None


def parse_csv(text: str) -> tuple[set[int], list[dict]]:
    """The years and days of a calendar file; refuses it whole, naming the row and field, when a
    row is wrong (a bad date or kind, a day listed twice, a make-up working day on a weekday)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"date", "kind"} - set(reader.fieldnames or [])
    if missing:
        raise InputError("calendar.error.columns", field=sorted(missing)[0])
    listed: dict[dt.date, dict] = {}
    for row, record in enumerate(reader, start=2):  # row 1 is the header
        day = _date(record.get("date") or "", row)
        kind = (record.get("kind") or "").strip()
        if kind not in KINDS:
            raise InputError("calendar.error.kind", field="kind", row=row, value=kind)
        if day in listed:
            raise InputError("calendar.error.twice", field="date", row=row, value=day.isoformat())
        if kind == WORKDAY and day.weekday() < 5:
            raise InputError("calendar.error.weekday", field="date", row=row,
                             value=day.isoformat())
        listed[day] = {"day": day, "kind": kind, "name": (record.get("name") or "").strip()[:64]}
    if not listed:
        raise InputError("calendar.error.empty", field="date")
    return {day.year for day in listed}, list(listed.values())


def import_csv(engine: Engine, path: str | Path) -> list[int]:
    """Load a calendar file into the store, replacing the years it lists; returns those years.

    One transaction: a refused file changes nothing.
    """
    path = Path(path)
    years, listed = parse_csv(path.read_text(encoding="utf-8"))
    _replace_years(engine, years, listed, source=path.name[:64])
    return sorted(years)


def seed(engine: Engine, *, replace: bool = False) -> list[int]:
    """Load the package's years the store lacks (all of them with ``replace``); returns them."""
    covered, listed = package_rows()
    with engine.connect() as conn:
        have = set(conn.scalars(select(CalendarYear.year)))
    years = {row["year"] for row in covered} - (set() if replace else have)
    _replace_years(engine, years, [r for r in listed if r["day"].year in years],
                   source=package_source())
    return sorted(years)


def _replace_years(engine: Engine, years: set[int], listed: list[dict], *, source: str) -> None:
    if not years:
        return
    with engine.begin() as conn:
        conn.execute(delete(CalendarDay).where(extract("year", CalendarDay.day).in_(years)))
        conn.execute(delete(CalendarYear).where(CalendarYear.year.in_(years)))
        loaded = now()
        conn.execute(insert(CalendarYear), [{"year": y, "source": source, "loaded_at": loaded}
                                            for y in sorted(years)])
        if listed:
            conn.execute(insert(CalendarDay), listed)


def covered_years(engine: Engine) -> list[tuple[int, str]]:
    """(year, source) of every covered year, in order."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(CalendarYear.year, CalendarYear.source).order_by(CalendarYear.year))]


def gaps(engine: Engine, *, today: dt.date | None = None) -> list[int]:
    """The years that matter and are not covered: today's, and those of open cases' deadlines.

    Deadlines there were counted Monday-Friday and may be wrong around the holidays.
    """
    from minqing.deadlines import open_clause

    today = today or clock_today()
    year = extract("year", Case.deadline)
    with engine.connect() as conn:
        due = {int(y) for y in conn.scalars(select(year).where(open_clause()).distinct())}
    calendar = load(engine)
    return sorted(y for y in due | {today.year} if y not in calendar.years)
