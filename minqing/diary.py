"""The service diary (民情日记): writing entries and reading a grid's or household's timeline.

An entry records one of the four records (四记) from one source (the four diagnoses or another
channel). A demand can be turned into a case in the same step: the entry and the case are written
in one transaction, so a refused case leaves no orphan entry behind and the cadre can fix the form
and submit again.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from minqing.access import protect
from minqing.cases import DISTRICT, NewCase, open_case
from minqing.clock import now
from minqing.clock import today as clock_today
from minqing.errors import InputError, Label, NotFoundError, RuleError
from minqing.models import Cadre, Case, DiaryEntry, Grid, Household
from minqing.scope import Scope
from minqing.store import write
from minqing.text import clean
from minqing.vocab import RecordKind, Source

log = logging.getLogger(__name__)
RISK_LEVELS = (0, 1, 2, 3)  # none, low, medium, high
MAX_TEXT = 4000  # characters of an entry's text (the column is unbounded; a page is not)
MAX_COUNT = 100_000  # people received / opinions taken at one reception (an INTEGER column)


@dataclass(frozen=True)
class NewEntry:
    """What a cadre fills in for one diary entry."""

    grid_id: int
    cadre_id: int
    entry_date: dt.date
    kind: str
    source: str
    text: str
    household_id: int | None = None
    risk_level: int = 0
    people_received: int | None = None
    opinions_taken: int | None = None


def _field_error(key: str, field: str, **params: object) -> InputError:
    return InputError(key, field=field, field_name=Label(f"diary.field.{field}"), **params)


def _check_vocab(entry: NewEntry) -> None:
    if entry.kind not in {k.value for k in RecordKind}:
        raise _field_error("diary.error.bad_choice", "kind", value=entry.kind)
    if entry.source not in {s.value for s in Source}:
        raise _field_error("diary.error.bad_choice", "source", value=entry.source)
    if entry.risk_level not in RISK_LEVELS:
        raise _field_error("diary.error.bad_choice", "risk_level", value=entry.risk_level)


def _check_reception_counts(entry: NewEntry) -> None:
    """Deputies' receptions (两代表一委员) must say how many people came and opinions were taken."""
    if entry.source != Source.DEPUTIES.value:
        return
    for field in ("people_received", "opinions_taken"):
        value = getattr(entry, field)
        if value is None:
            raise _field_error("diary.error.required", field)
        if value < 0:
            raise _field_error("diary.error.negative", field)
        if value > MAX_COUNT:
            raise _field_error("diary.error.too_large", field, max_value=MAX_COUNT)


def validate_entry(entry: NewEntry, *, today: dt.date) -> NewEntry:
    """The entry with its text stripped, or an :class:`InputError` naming the field at fault."""
    text = clean(entry.text)
    if not text:
        raise _field_error("diary.error.required", "text")
    if len(text) > MAX_TEXT:
        raise _field_error("diary.error.too_long", "text", max_len=MAX_TEXT)
    if entry.entry_date is None:
        raise _field_error("diary.error.required", "entry_date")
    if entry.entry_date > today:
        raise _field_error("diary.error.future_date", "entry_date", day=today.isoformat())
    _check_vocab(entry)
    _check_reception_counts(entry)
    if entry.source != Source.DEPUTIES.value:
        entry = replace(entry, people_received=None, opinions_taken=None)
    return replace(entry, text=text)


def _check_refs(session: Session, entry: NewEntry, scope: Scope) -> Grid:
    grid = session.scalar(select(Grid).where(scope.where(Grid), Grid.id == entry.grid_id))
    if grid is None:
        raise NotFoundError("diary.error.grid_not_found", field="grid_id", grid_id=entry.grid_id)
    if session.get(Cadre, entry.cadre_id) is None:
        raise _field_error("diary.error.required", "cadre_id")
    if entry.household_id is not None:
        household_grid = session.scalar(
            select(Household.grid_id).where(Household.id == entry.household_id))
        if household_grid != grid.id:
            raise RuleError("diary.error.household_other_grid", field="household_id")
    return grid


def add_entry(session: Session, *, entry: NewEntry, case: NewCase | None = None,
              actor: str, today: dt.date | None = None,
              scope: Scope = DISTRICT) -> tuple[DiaryEntry, Case | None]:
    """Write a diary entry and, when ``case`` is given, open that case from it. Flushes only.

    The case inherits the entry's grid and household; it is linked back through
    ``diary_entry_id``. Any refusal raises before anything is committed. With a viewer's scope
    the entry records the signed-in account and only grids of its jurisdiction are writable.
    """
    scope.require_casework()
    today = today or clock_today()
    entry = validate_entry(entry, today=today)
    grid = _check_refs(session, entry, scope)
    row = DiaryEntry(
        grid_id=grid.id, town_id=grid.town_id, cadre_id=entry.cadre_id,
        household_id=entry.household_id, entry_date=entry.entry_date, kind=entry.kind,
        source=entry.source, text=entry.text, risk_level=entry.risk_level,
        people_received=entry.people_received, opinions_taken=entry.opinions_taken,
        created_at=now(), account_id=scope.account_id,
    )
    session.add(row)
    session.flush()
    opened = None
    if case is not None:
        case = replace(case, grid_id=grid.id, household_id=entry.household_id,
                       diary_entry_id=row.id,
                       is_risk=case.is_risk or entry.kind == RecordKind.RISK.value)
        opened = open_case(session, new=case, actor=actor, today=today,
                           comment=entry.text[:200], scope=scope)
    return row, opened


def record(engine: Engine, *, entry: NewEntry, case: NewCase | None = None, actor: str,
           today: dt.date | None = None, scope: Scope = DISTRICT) -> tuple[int, int | None]:
    """:func:`add_entry` in its own transaction; returns (entry id, case id or None)."""
    def work(session):
        row, opened = add_entry(session, entry=entry, case=case, actor=actor, today=today,
                                scope=scope)
        session.flush()
        return row.id, (opened.id if opened else None)

    entry_id, case_id = write(engine, work)
    log.info("diary entry %s written (grid %s, case %s)", entry_id, entry.grid_id, case_id)
    return entry_id, case_id


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineFilter:
    """The grid page's diary filters; empty tuples mean "all"."""

    kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None


def timeline(engine: Engine, *, scope: Scope, grid_id: int | None = None,
             household_id: int | None = None, filters: TimelineFilter = TimelineFilter(),
             limit: int = 200) -> pd.DataFrame:
    """Diary entries in scope, newest first, with the cadre, the household and any case opened.

    Columns: id, entry_date, kind, source, text, risk_level, people_received, opinions_taken,
    cadre, household_id, household, case_id, case_code, case_status, green_channel. Names are
    masked for viewers who do not see personal data; aggregate-only viewers are refused.
    """
    scope.require_person_level()
    stmt = (
        select(
            DiaryEntry.id, DiaryEntry.entry_date, DiaryEntry.kind, DiaryEntry.source,
            DiaryEntry.text, DiaryEntry.risk_level, DiaryEntry.people_received,
            DiaryEntry.opinions_taken, Cadre.name.label("cadre"), DiaryEntry.household_id,
            Household.head_name.label("household"), Case.id.label("case_id"),
            Case.code.label("case_code"), Case.status.label("case_status"),
            Case.green_channel.label("green_channel"),
        )
        .join(Cadre, Cadre.id == DiaryEntry.cadre_id)
        .outerjoin(Household, Household.id == DiaryEntry.household_id)
        .outerjoin(Case, Case.diary_entry_id == DiaryEntry.id)
        .where(scope.where(DiaryEntry))
        .order_by(DiaryEntry.entry_date.desc(), DiaryEntry.id.desc())
        .limit(limit)
    )
    stmt = _filtered(stmt, grid_id=grid_id, household_id=household_id, filters=filters)
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return protect(pd.DataFrame(rows, columns=_TIMELINE_COLUMNS), scope,
                   {"cadre": "name", "household": "name"})


_TIMELINE_COLUMNS = [
    "id", "entry_date", "kind", "source", "text", "risk_level", "people_received",
    "opinions_taken", "cadre", "household_id", "household", "case_id", "case_code", "case_status",
    "green_channel",
]


def _filtered(stmt, *, grid_id: int | None, household_id: int | None, filters: TimelineFilter):
    if grid_id is not None:
        stmt = stmt.where(DiaryEntry.grid_id == grid_id)
    if household_id is not None:
        stmt = stmt.where(DiaryEntry.household_id == household_id)
    if filters.kinds:
        stmt = stmt.where(DiaryEntry.kind.in_(filters.kinds))
    if filters.sources:
        stmt = stmt.where(DiaryEntry.source.in_(filters.sources))
    if filters.since:
        stmt = stmt.where(DiaryEntry.entry_date >= filters.since)
    if filters.until:
        stmt = stmt.where(DiaryEntry.entry_date <= filters.until)
    return stmt
