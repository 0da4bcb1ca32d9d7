"""KPIs as data: every counter and rate declared once, and one function that evaluates them.

A KPI (:class:`Kpi`) is a name, a numerator, for a rate a denominator, and what an empty
denominator shows. Numerators and denominators are :class:`Measure` s: counts (or sums) of one kind
of record — cases, diary entries, households, grids — meeting a condition. A measure is either
*dated* (a record counts in a period when its date falls in it: a diary entry on its day, a case
closed on its closing day) or judged *as of today* (open, overdue, households). The label and the
one-line definition every page shows next to the number are in the catalogue under
``kpi.<key>`` and ``kpi.<key>.help``.

:func:`evaluate` computes any KPIs for a scope over a period, grouped by town, area, grid or cadre
(or not grouped), with one aggregate query per kind of record: the database does the counting,
pandas only lines the few result rows up. :func:`trend` buckets dated KPIs by month the same way.
The overview, the grid page, the map's counters and (later) the exports, the wall display and the
supervision rankings all read these definitions; none derives a KPI on its own.

The closure rates follow the GB/T 30428 evaluations: they are taken over the cases *due* in the
period (应结案). A case falls due on its deadline, or on the day it was closed if that was earlier;
it counts as due in a period when that day lies in the period and the case is closed or its deadline
has passed (a case due today is not yet late). Each case is due in exactly one period, so monthly
figures add up to the year's.

Grouping by cadre: diary entries count for the cadre who wrote them, cases for the cadre who wrote
the entry they came from (a case opened without an entry counts for no cadre), households and grids
for the liaison cadre leading the grid's service group.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Engine,
    and_,
    case,
    distinct,
    func,
    not_,
    or_,
    select,
    true,
)

from minqing.access import protect_value
from minqing.cases import ACTIONS
from minqing.clock import today as clock_today
from minqing.deadlines import open_clause, overdue_clause
from minqing.i18n import t
from minqing.models import (
    Area,
    Cadre,
    Case,
    CaseEvent,
    DiaryEntry,
    DiaryReview,
    Grid,
    Household,
    ServiceGroup,
    Town,
)
from minqing.scope import Scope
from minqing.vocab import CaseStatus, RecordKind

Level = Literal["town", "area", "grid", "cadre"]
LEVELS: tuple[Level, ...] = ("town", "area", "grid", "cadre")

SILENT_DAYS = 30
"""A grid is *silent* when it has had no diary entry in the last 30 days (the follow-up's month)."""
RISK_WINDOW_DAYS = 90
""""Risks" on the map counts risk diary entries of the last 90 days (a quarter's check)."""
RECENT_DIARY_DAYS = SILENT_DAYS
""""Diary entries" on the map counts the last 30 days: a grid with none there is silent."""
SATISFIED = ("satisfied", "basically_satisfied")
"""Feedback that counts as satisfied in the satisfaction rate."""


class Counted(StrEnum):
    """The kinds of record a measure counts."""

    CASE = "case"
    ENTRY = "entry"
    HOUSEHOLD = "household"
    GRID = "grid"


@dataclass(frozen=True)
class Period:
    """From ``since`` (None: from the first record) to ``until``, both inclusive; ``today`` is
    the day open and overdue are judged on."""

    since: dt.date | None
    until: dt.date
    today: dt.date

    def covers(self, day: ColumnElement) -> ColumnElement[bool]:
        return day <= self.until if self.since is None else day.between(self.since, self.until)

    @property
    def end(self) -> dt.date:
        """The last day the period has seen: its end, or today if that is earlier."""
        return min(self.until, self.today)


def _always(period: Period) -> ColumnElement[bool]:
    return true()


@dataclass(frozen=True)
class Measure:
    """A count (or sum) of one kind of record.

    ``when`` gives the date that places a record in a period (None: judged as of today, whatever
    the period); ``where`` any further condition, given the period. ``total`` is ``rows``,
    ``distinct`` (distinct values of ``column``) or ``sum`` (of ``column``). ``alone``: counted
    by a query of its own with the condition as its filter, for a membership test (``IN
    (SELECT ...)``) that a database answers once as a semi-join but, inside a ``CASE`` next to
    other measures, tests row by row (PostgreSQL ran it as a subplan in every parallel worker).
    """

    counted: Counted
    when: Callable[[], ColumnElement] | None = None
    where: Callable[[Period], ColumnElement[bool]] = _always
    total: Literal["rows", "distinct", "sum"] = "rows"
    column: Callable[[], ColumnElement] | None = None
    alone: bool = False

    def condition(self, period: Period) -> ColumnElement[bool]:
        clause = self.where(period)
        return clause if self.when is None else and_(period.covers(self.when()), clause)


def _alone(names: list[str]) -> bool:
    """True for the query of one ``alone`` measure: its condition is the query's filter."""
    return len(names) == 1 and MEASURES[names[0]].alone


def _batches(names: list[str]) -> list[list[str]]:
    """The queries that count ``names``: those that share one, then each ``alone`` measure."""
    together = [n for n in names if not MEASURES[n].alone]
    return ([together] if together else []) + [[n] for n in names if MEASURES[n].alone]


def _counted_by_any(measures: Iterable[Measure], period: Period) -> ColumnElement[bool]:
    """The rows at least one of ``measures`` counts, with one date range per kind of date.

    Rows no measure counts add nothing, so leaving them out changes no figure. Written as
    ``day in period AND (any condition)`` per date rather than one OR of every measure's whole
    condition: an index on the date can then answer it, and the database tests each date once.
    """
    by_day: dict[Callable[[], ColumnElement] | None, list[Measure]] = {}
    for measure in measures:
        by_day.setdefault(measure.when, []).append(measure)
    clauses = []
    for when, group in by_day.items():
        always = any(m.where is _always for m in group)
        clause = true() if always else or_(*(m.where(period) for m in group))
        clauses.append(clause if when is None else and_(period.covers(when()), clause))
    return or_(*clauses)


@dataclass(frozen=True)
class Kpi:
    """A KPI: a count (``denominator`` None) or a rate ``numerator / denominator``.

    ``empty`` is what is shown when the denominator is 0 (a rate of nothing is not 0 %). Label
    and definition come from the catalogue (``kpi.<key>``, ``kpi.<key>.help``).
    """

    key: str
    numerator: str
    denominator: str | None = None
    empty: str = "—"

    @property
    def is_rate(self) -> bool:
        return self.denominator is not None

    @property
    def dated(self) -> bool:
        """True when the KPI is measured over a period (False: as of today)."""
        return MEASURES[self.numerator].when is not None

    def label(self, lang: str) -> str:
        return t(f"kpi.{self.key}", lang)

    def definition(self, lang: str) -> str:
        return t(f"kpi.{self.key}.help", lang)

    def show(self, value: float | None) -> str:
        """The value as a page shows it: ``1,234``, ``93.5%``, or :attr:`empty`."""
        if value is None or pd.isna(value):
            return self.empty
        return f"{value:.1%}" if self.is_rate else f"{int(value):,}"


# --- the definitions ----------------------------------------------------------------------------

def _entry_day() -> ColumnElement:
    return DiaryEntry.entry_date


def _opened_day() -> ColumnElement:
    return Case.opened_on


def _closed_day() -> ColumnElement:
    return Case.closed_on


def _closed() -> ColumnElement[bool]:
    return Case.status == CaseStatus.CLOSED.value


def _closed_on_time() -> ColumnElement[bool]:
    return and_(_closed(), Case.closed_on <= Case.deadline)


def _falls_due() -> ColumnElement:
    """The day a case falls due: its closing day when closed on time, else its deadline."""
    return case((_closed_on_time(), Case.closed_on), else_=Case.deadline)


def _due(period: Period) -> ColumnElement[bool]:
    """Due (应结案): closed, or past its deadline (the period part is ``_falls_due``)."""
    return or_(_closed(), Case.deadline < period.today)


def _had(tag: str) -> Callable[[Period], ColumnElement[bool]]:
    """Due, and the case's history holds an action tagged ``tag`` (see ``cases.ACTIONS``; read
    when the query is built, so actions declared by other modules count too)."""

    def where(period: Period) -> ColumnElement[bool]:
        actions = [name for name, spec in ACTIONS.items() if tag in spec.counts_as]
        return and_(_due(period), Case.id.in_(
            select(CaseEvent.case_id).where(CaseEvent.action.in_(actions))))
    return where


def _passed_review(period: Period) -> ColumnElement[bool]:
    return DiaryEntry.id.in_(select(DiaryReview.entry_id).where(DiaryReview.outcome == "passed"))


def _visited(period: Period) -> ColumnElement[bool]:
    entries = select(DiaryEntry.household_id).where(period.covers(DiaryEntry.entry_date),
                                                    DiaryEntry.household_id.is_not(None))
    return Household.id.in_(entries)


def _silent(period: Period) -> ColumnElement[bool]:
    first = period.end - dt.timedelta(days=SILENT_DAYS - 1)
    recent = select(DiaryEntry.grid_id).where(DiaryEntry.entry_date.between(first, period.end))
    return not_(Grid.id.in_(recent))


def _due_and(clause: Callable[[], ColumnElement[bool]]) -> Callable[[Period], ColumnElement[bool]]:
    return lambda period: and_(_due(period), clause())


C, E = Counted.CASE, Counted.ENTRY

MEASURES: dict[str, Measure] = {
    # diary entries, on the day they were written
    "diary_entries": Measure(E, _entry_day),
    "diaries": Measure(E, _entry_day, total="distinct",
                       column=lambda: DiaryEntry.cadre_id),
    "risk_entries": Measure(E, _entry_day,
                            lambda p: DiaryEntry.kind == RecordKind.RISK.value),
    "people_received": Measure(E, _entry_day, total="sum",
                               column=lambda: DiaryEntry.people_received),
    "opinions_taken": Measure(E, _entry_day, total="sum",
                              column=lambda: DiaryEntry.opinions_taken),
    "entries_passed": Measure(E, _entry_day, _passed_review, alone=True),
    # cases, on the day they were opened or closed
    "cases_opened": Measure(C, _opened_day),
    "cases_closed": Measure(C, _closed_day, lambda p: _closed()),
    "risk_cases_closed": Measure(C, _closed_day,
                                 lambda p: and_(_closed(), Case.is_risk.is_(True))),
    # cases due (应结案), on the day they fell due
    "cases_due": Measure(C, _falls_due, _due),
    "due_closed": Measure(C, _falls_due, _due_and(_closed)),
    "due_on_time": Measure(C, _falls_due, _due_and(_closed_on_time)),
    "due_late": Measure(C, _falls_due, _due_and(lambda: not_(_closed_on_time()))),
    "due_extended": Measure(C, _falls_due, _had("extension")),
    "due_reworked": Measure(C, _falls_due, _had("rework")),
    "due_with_feedback": Measure(C, _falls_due, _due_and(lambda: Case.satisfaction.is_not(None))),
    "due_satisfied": Measure(C, _falls_due, _due_and(lambda: Case.satisfaction.in_(SATISFIED))),
    # as of today
    "open_now": Measure(C, None, lambda p: open_clause()),
    "overdue_now": Measure(C, None, lambda p: overdue_clause(p.today)),
    "households": Measure(Counted.HOUSEHOLD),
    "households_visited": Measure(Counted.HOUSEHOLD, None, _visited, alone=True),
    "grids": Measure(Counted.GRID),
    "silent_grids": Measure(Counted.GRID, None, _silent),
}

KPIS: dict[str, Kpi] = {k.key: k for k in (
    Kpi("households", "households"),
    Kpi("grids", "grids"),
    Kpi("diaries_issued", "diaries"),
    Kpi("diary_entries", "diary_entries"),
    Kpi("people_received", "people_received"),
    Kpi("opinions_taken", "opinions_taken"),
    Kpi("risks_found", "risk_entries"),
    Kpi("risks_resolved", "risk_cases_closed"),
    Kpi("cases_opened", "cases_opened"),
    Kpi("problems_solved", "cases_closed"),
    Kpi("open_cases", "open_now"),
    Kpi("overdue_cases", "overdue_now"),
    Kpi("cases_due", "cases_due"),
    Kpi("closure_rate", "due_closed", "cases_due"),
    Kpi("on_time_rate", "due_on_time", "cases_due"),
    Kpi("extension_rate", "due_extended", "cases_due"),
    Kpi("rework_rate", "due_reworked", "cases_due"),
    Kpi("satisfaction_rate", "due_satisfied", "due_with_feedback"),
    Kpi("visit_coverage", "households_visited", "households"),
    Kpi("silent_grids", "silent_grids"),
    Kpi("late_cases", "due_late"),
    Kpi("reviews_passed", "entries_passed"),
)}
"""Every KPI, in the order pages list them."""


# --- evaluation ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Source:
    """How one kind of record is read: its model and, per level, the group key and joins."""

    model: type
    keys: dict[str, Callable[[], ColumnElement]]
    joins: dict[str, Callable[[], tuple]]


def _grid_of(column) -> Callable[[], tuple]:
    return lambda: (Grid, Grid.id == column)


def _group_of(column) -> Callable[[], tuple]:
    return lambda: (ServiceGroup, ServiceGroup.grid_id == column)


_SOURCES: dict[Counted, _Source] = {
    Counted.CASE: _Source(
        Case, {"town": lambda: Case.town_id, "area": lambda: Grid.area_id,
               "grid": lambda: Case.grid_id, "cadre": lambda: DiaryEntry.cadre_id},
        {"area": _grid_of(Case.grid_id),
         "cadre": lambda: (DiaryEntry, DiaryEntry.id == Case.diary_entry_id)}),
    Counted.ENTRY: _Source(
        DiaryEntry, {"town": lambda: DiaryEntry.town_id, "area": lambda: Grid.area_id,
                     "grid": lambda: DiaryEntry.grid_id, "cadre": lambda: DiaryEntry.cadre_id},
        {"area": _grid_of(DiaryEntry.grid_id)}),
    Counted.HOUSEHOLD: _Source(
        Household, {"town": lambda: Household.town_id, "area": lambda: Grid.area_id,
                    "grid": lambda: Household.grid_id,
                    "cadre": lambda: ServiceGroup.leader_cadre_id},
        {"area": _grid_of(Household.grid_id), "cadre": _group_of(Household.grid_id)}),
    Counted.GRID: _Source(
        Grid, {"town": lambda: Grid.town_id, "area": lambda: Grid.area_id,
               "grid": lambda: Grid.id, "cadre": lambda: ServiceGroup.leader_cadre_id},
        {"cadre": _group_of(Grid.id)}),
}


def _aggregate(measure: Measure, period: Period, *, filtered: bool = False) -> ColumnElement:
    """The measure's total over a query's rows; ``filtered``: the query keeps only the rows
    the measure counts (an ``alone`` measure), so no per-row test is needed here."""
    if filtered:
        if measure.total == "distinct":
            return func.count(distinct(measure.column()))
        return func.count() if measure.total == "rows" else func.coalesce(
            func.sum(measure.column()), 0)
    cond = measure.condition(period)
    if measure.total == "distinct":
        return func.count(distinct(case((cond, measure.column()))))
    value = 1 if measure.total == "rows" else measure.column()
    return func.coalesce(func.sum(case((cond, value), else_=0)), 0)


def _counts(engine: Engine, counted: Counted, names: list[str], *, scope: Scope,
            by: Level | None, period: Period) -> pd.DataFrame:
    """One aggregate query: the named measures of one kind of record, per group."""
    source = _SOURCES[counted]
    measures = [MEASURES[name] for name in names]
    filtered = _alone(names)
    columns = [_aggregate(m, period, filtered=filtered).label(name)
               for m, name in zip(measures, names, strict=True)]
    stmt = select(*columns).select_from(source.model)
    if by is not None:
        key = source.keys[by]()
        stmt = select(key.label("key"), *columns).select_from(source.model)
        if by in source.joins:
            stmt = stmt.outerjoin(*source.joins[by]())
        stmt = stmt.where(key.is_not(None)).group_by(key)
    stmt = stmt.where(scope.where(source.model), _counted_by_any(measures, period))
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(stmt)]
    frame = pd.DataFrame.from_records(rows, columns=(["key"] if by else []) + names)
    if by is None:
        frame = frame if len(frame) else pd.DataFrame([dict.fromkeys(names, 0)])
        frame.index = pd.Index([0], name="key")
        return frame
    return frame.set_index("key")


def _groups(engine: Engine, *, scope: Scope, by: Level) -> pd.DataFrame:
    """Every town, area or grid in scope with its code and name (cadres: none, see below)."""
    model = {"town": Town, "area": Area, "grid": Grid}.get(by)
    if model is None:
        return pd.DataFrame(columns=["name"], index=pd.Index([], name="key"))
    code = model.code if hasattr(model, "code") else model.name
    stmt = select(model.id.label("key"), code.label("code"), model.name).where(scope.where(model))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all(), columns=["key", "code", "name"])
    return frame.set_index("key")


def _cadre_names(engine: Engine, ids: Iterable[int]) -> dict[int, str]:
    """Names of the cadres ``ids``: the cadres table is small, and reading it whole is cheaper
    than sending a thousand ids as parameters (20 ms on PostgreSQL)."""
    wanted = {int(i) for i in ids}
    if not wanted:
        return {}
    with engine.connect() as conn:
        return {k: v for k, v in conn.execute(select(Cadre.id, Cadre.name)) if k in wanted}


def _measures_for(kpis: Iterable[str]) -> list[str]:
    names: list[str] = []
    for key in kpis:
        kpi = KPIS[key]
        for name in (kpi.numerator, kpi.denominator):
            if name and name not in names:
                names.append(name)
    return names


def _values(frame: pd.DataFrame, kpis: Iterable[str]) -> pd.DataFrame:
    """Add each KPI's value next to its measures: rates are NaN where the denominator is 0."""
    values = {}
    for key in kpis:
        kpi = KPIS[key]
        if kpi.is_rate:
            top = frame[kpi.numerator].to_numpy(dtype=float)
            bottom = frame[kpi.denominator].to_numpy(dtype=float)
            values[key] = top / np.where(bottom > 0, bottom, np.nan)
        else:
            values[key] = frame[kpi.numerator]
    return frame.assign(**values)


def evaluate(engine: Engine, *, scope: Scope, kpis: Iterable[str] | None = None,
             by: Level | None = None, since: dt.date | None = None, until: dt.date | None = None,
             today: dt.date | None = None) -> pd.DataFrame:
    """The KPIs for ``scope`` over ``since``..``until``, one row per group.

    Parameters
    ----------
    engine : Engine
    scope : Scope
        Only records inside it are counted.
    kpis : keys of :data:`KPIS` (default: all of them).
    by : ``"town"``, ``"area"``, ``"grid"``, ``"cadre"`` or None (one row for the whole scope).
    since, until : the period, inclusive (default: from the first record to ``today``).
    today : the day open and overdue are judged on (default :func:`minqing.clock.today`).

    Returns
    -------
    DataFrame
        Indexed by the group's id (``key``; 0 when ``by`` is None), with ``code`` and ``name``
        of the group when grouped, each measure used (an integer count), and each KPI (a count,
        or a rate as a fraction that is NaN when its denominator is 0: show it with
        :meth:`Kpi.show`). Towns, areas and grids with no records get zeros; cadres appear when
        some record counts for them.

    Examples
    --------
    >>> evaluate(engine, scope=Scope.district(), by="town", kpis=["on_time_rate"])  # doctest: +SKIP
    """
    today = today or clock_today()
    keys = list(kpis) if kpis is not None else list(KPIS)
    period = Period(since, until or today, today)
    names = _measures_for(keys)
    frames = []
    for counted in Counted:
        mine = [n for n in names if MEASURES[n].counted is counted]
        for batch in _batches(mine):
            frames.append(_counts(engine, counted, batch, scope=scope, by=by, period=period))
    if by is None:
        table = pd.concat(frames, axis=1)
    else:
        table = _groups(engine, scope=scope, by=by)
        for frame in frames:
            table = table.join(frame, how="outer") if by == "cadre" else table.join(frame)
        if by == "cadre":  # cadres' names follow the masking policy of the viewer
            names_of = {k: protect_value(v, scope, "name")
                        for k, v in _cadre_names(engine, table.index).items()}
            table["name"] = pd.Series(names_of).reindex(table.index)
        table = table.sort_values("code" if "code" in table else "name", kind="stable")
    table[names] = table[names].fillna(0).astype(int)
    return _values(table, keys)


def _grid_places(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Every grid in scope with its town, area and service-group leader (the cadre its
    households and itself count for)."""
    stmt = (select(Grid.id.label("grid"), Grid.town_id.label("town"), Grid.area_id.label("area"),
                   ServiceGroup.leader_cadre_id.label("leader"))
            .outerjoin(ServiceGroup, ServiceGroup.grid_id == Grid.id).where(scope.where(Grid)))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(),
                            columns=["grid", "town", "area", "leader"]).set_index("grid")


def _fine_counts(engine: Engine, counted: Counted, names: list[str], *, scope: Scope,
                 period: Period) -> pd.DataFrame:
    """One aggregate query at the finest grain: per grid, and per cadre for cases and entries."""
    source = _SOURCES[counted]
    filtered = _alone(names)
    columns = [_aggregate(MEASURES[n], period, filtered=filtered).label(n) for n in names]
    keys = [source.keys["grid"]().label("grid")]
    if counted in (Counted.CASE, Counted.ENTRY):
        keys.append(source.keys["cadre"]().label("cadre"))
    stmt = select(*keys, *columns).select_from(source.model)
    if counted is Counted.CASE:
        stmt = stmt.outerjoin(*source.joins["cadre"]())
    stmt = (stmt.where(scope.where(source.model),
                       _counted_by_any((MEASURES[n] for n in names), period))
            .group_by(*keys))
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(stmt)]
    return pd.DataFrame.from_records(rows, columns=[k.key for k in keys] + names)


def evaluate_levels(engine: Engine, *, scope: Scope, levels: Iterable[Level] = LEVELS,
                    kpis: Iterable[str] | None = None, since: dt.date | None = None,
                    until: dt.date | None = None,
                    today: dt.date | None = None) -> dict[str, pd.DataFrame]:
    """:func:`evaluate` for several levels at once: ``{level: the table evaluate(by=level)
    returns}``.

    Counts and sums add up, so each kind of record is counted once per grid (and cadre) and
    summed to every level in pandas: four levels cost about one query per kind of record instead
    of four. Distinct counts do not add up and are counted per level.
    """
    today = today or clock_today()
    keys = list(kpis) if kpis is not None else list(KPIS)
    period = Period(since, until or today, today)
    names = _measures_for(keys)
    places = _grid_places(engine, scope)
    fine: list[pd.DataFrame] = []
    for counted in Counted:
        mine = [n for n in names if MEASURES[n].counted is counted and MEASURES[n].total != "distinct"]
        for batch in _batches(mine):
            frame = _fine_counts(engine, counted, batch, scope=scope, period=period)
            frame = frame.join(places, on="grid")
            if "cadre" not in frame:
                frame["cadre"] = frame["leader"]
            fine.append(frame[["grid", "town", "area", "cadre", *batch]])
    distinct = [n for n in names if MEASURES[n].total == "distinct"]
    out = {}
    for level in levels:
        parts = [frame.groupby(level)[list(frame.columns[4:])].sum() for frame in fine]
        parts += [_counts(engine, MEASURES[n].counted, [n], scope=scope, by=level, period=period)
                  for n in distinct]
        for part in parts:  # group keys read back as floats where some were missing
            part.index = part.index.astype("int64")
        table = _groups(engine, scope=scope, by=level)
        if parts:
            table = table.join(pd.concat(parts, axis=1), how="outer" if level == "cadre" else "left")
        table.index.name = "key"
        if level == "cadre":  # cadres' names follow the masking policy of the viewer
            names_of = {k: protect_value(v, scope, "name")
                        for k, v in _cadre_names(engine, table.index).items()}
            table["name"] = pd.Series(names_of, dtype=object).reindex(table.index)
        table = table.sort_values("code" if "code" in table else "name", kind="stable")
        table[names] = table[names].fillna(0).astype(int)
        out[level] = _values(table, keys)
    return out


def headline(engine: Engine, *, scope: Scope, kpis: Iterable[str] | None = None,
             since: dt.date | None = None, until: dt.date | None = None,
             today: dt.date | None = None) -> dict[str, float]:
    """The KPIs for the whole scope as ``{key: value}``: counts as ints, rates as floats (NaN
    when the denominator is 0)."""
    keys = list(kpis) if kpis is not None else list(KPIS)
    frame = evaluate(engine, scope=scope, kpis=keys, since=since, until=until, today=today)
    return {key: float(frame[key].iloc[0]) if KPIS[key].is_rate else int(frame[key].iloc[0])
            for key in keys}


def town_table(engine: Engine, *, scope: Scope, kpis: Iterable[str],
               since: dt.date | None = None, until: dt.date | None = None,
               today: dt.date | None = None) -> pd.DataFrame:
    """One row per town in scope (``town_id``, ``code``, ``name``, ``kind`` and the KPIs)."""
    table = evaluate(engine, scope=scope, kpis=kpis, by="town", since=since, until=until,
                     today=today)
    with engine.connect() as conn:
        kinds = dict(conn.execute(select(Town.id, Town.kind).where(scope.where(Town))).all())
    table.insert(2, "kind", [kinds.get(k) for k in table.index])
    return table.rename_axis("town_id").reset_index()


def _by_kind_and_day(names: Iterable[str]) -> dict[tuple, list[str]]:
    """Measures grouped by the record they count and the date that places them in a period:
    each group is one query."""
    groups: dict[tuple, list[str]] = {}
    for name in names:
        groups.setdefault((MEASURES[name].counted, MEASURES[name].when), []).append(name)
    return groups


def _monthly(engine: Engine, counted: Counted, when: Callable[[], ColumnElement],
             names: list[str], *, scope: Scope, period: Period,
             index: pd.PeriodIndex) -> pd.DataFrame:
    """One query: the measures ``names`` (one kind of record, one date) per day, summed here
    into the months of ``index``."""
    model = _SOURCES[counted].model
    day = when()
    filtered = _alone(names)
    stmt = (select(day.label("day"),
                   *(_aggregate(MEASURES[n], period, filtered=filtered).label(n) for n in names))
            .select_from(model)
            .where(scope.where(model), _counted_by_any((MEASURES[n] for n in names), period))
            .group_by(day))
    with engine.connect() as conn:
        daily = pd.DataFrame.from_records([tuple(row) for row in conn.execute(stmt)],
                                          columns=["day", *names])
    monthly = daily.groupby(pd.PeriodIndex(pd.to_datetime(daily["day"]), freq="M"))[names].sum()
    return monthly.reindex(index, fill_value=0).astype(int)


def trend(engine: Engine, *, scope: Scope, kpis: Iterable[str], months: int = 24,
          today: dt.date | None = None) -> pd.DataFrame:
    """Dated KPIs month by month over the last ``months`` months (this one included).

    The database counts per day (grouping on the bare date lets an index on it answer, where
    extracting the month would cost a function call per row), one query per kind of record and
    date; the days are summed into months here. One row per month (``YYYY-MM``), every month
    present.
    """
    today = today or clock_today()
    keys = list(kpis)
    start = (pd.Timestamp(today.replace(day=1)) - pd.DateOffset(months=months - 1)).date()
    period = Period(start, today, today)
    index = pd.period_range(start, today, freq="M")
    out = pd.DataFrame(index=index)
    for (counted, when), group in _by_kind_and_day(_measures_for(keys)).items():
        if when is None:
            raise ValueError(f"{group[0]} is judged as of today and has no monthly trend")
        for names in _batches(group):
            out[names] = _monthly(engine, counted, when, names, scope=scope, period=period,
                                  index=index)
    out.index = out.index.strftime("%Y-%m")
    return _values(out, keys)


# --- per-grid counters for the district map (一张图) ---

def grid_counters(engine: Engine, *, scope: Scope, today: dt.date | None = None) -> pd.DataFrame:
    """One row per grid in scope with the counters the map colours grids by.

    Columns: ``households``, ``open_cases``, ``overdue_cases`` (the KPIs of the same names),
    ``risks_90d`` (risks found in the last :data:`RISK_WINDOW_DAYS` days, today included),
    ``diary_30d`` (diary entries in the last :data:`RECENT_DIARY_DAYS` days), ``last_diary``
    (date or NaT) and ``days_since_diary`` (float, NaN when the grid has no entry at all: a
    silent grid is shown as such, not as "0 days").

    Returns
    -------
    DataFrame
        Indexed by ``grid_id``; grids with no records get zeros.
    """
    today = today or clock_today()
    now = evaluate(engine, scope=scope, by="grid", today=today,
                   kpis=["households", "open_cases", "overdue_cases", "diary_entries"],
                   since=today - dt.timedelta(days=RECENT_DIARY_DAYS - 1))
    risks = evaluate(engine, scope=scope, by="grid", kpis=["risks_found"], today=today,
                     since=today - dt.timedelta(days=RISK_WINDOW_DAYS - 1))
    last = (select(DiaryEntry.grid_id, func.max(DiaryEntry.entry_date))
            .where(scope.where(DiaryEntry), DiaryEntry.entry_date <= today)
            .group_by(DiaryEntry.grid_id))
    with engine.connect() as conn:
        last_days = dict(conn.execute(last).all())
    table = pd.DataFrame({
        "households": now["households"], "open_cases": now["open_cases"],
        "overdue_cases": now["overdue_cases"], "risks_90d": risks["risks_found"],
        "diary_30d": now["diary_entries"],
    }, index=now.index.rename("grid_id"))
    table["last_diary"] = pd.to_datetime(pd.Series(last_days, dtype=object)
                                         .reindex(table.index))
    table["days_since_diary"] = (pd.Timestamp(today) - table["last_diary"]).dt.days.astype(float)
    return table.sort_index()


def grid_headline(counters: pd.DataFrame) -> dict[str, int]:
    """Totals of :func:`grid_counters` for the map's side panel.

    ``silent_grids`` are the grids with no diary entry in the last :data:`SILENT_DAYS` days, the
    same grids the ``silent_grids`` KPI counts.
    """
    totals = {col: int(counters[col].sum()) for col in
              ("households", "open_cases", "overdue_cases", "risks_90d", "diary_30d")}
    silent = int((counters["diary_30d"] == 0).sum())
    return {"grids": len(counters), "silent_grids": silent, **totals}
