"""What the meeting-room display may read: counts, rates, grid geometry and town names, nothing else.

A wall display is seen by everyone in the room, so it never gets a person-level record. This module
is the display's only door to the store: it reads through the KPI definitions
(:mod:`minqing.kpi`) and selects only ids, town names and geometry itself, then checks every frame
it hands out against a declared list of allowed columns (:data:`ALLOWED`). A column that is not
on the list (a head of household's name, a phone, a grid's leader) makes it refuse with
:class:`PersonalDataRefused` rather than pass it on, so a later change to a KPI or a query cannot
leak a name onto a wall unnoticed. The display signs in as an account of the ``display`` role,
which the person-level query functions refuse outright
(:meth:`minqing.scope.Scope.require_person_level`); the scope it reads with is that account's.

:class:`LastGood` keeps the last snapshot that could be read, for every display served by one
app process: the display's timer reads it (never the database), it checks the data version at
most every ``every_s`` seconds, reloads when the data changed, and when the store cannot be read
it keeps the last good values and says since when it has been failing.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from minqing import kpi
from minqing.clock import now as clock_now
from minqing.clock import today as clock_today
from minqing.models import Grid, Town
from minqing.registry import data_version, dataset_info
from minqing.scope import Scope

__all__ = [
    "ALLOWED",
    "GRID_VALUES",
    "HEADLINE",
    "TREND",
    "LastGood",
    "PersonalDataRefused",
    "Reading",
    "Snapshot",
    "read_snapshot",
]

log = logging.getLogger(__name__)

CRS = "EPSG:4326"
TREND_MONTHS = 12

HEADLINE = ("diaries_issued", "problems_solved", "risks_found", "open_cases", "overdue_cases",
            "on_time_rate")
"""The headline counters on the display: keys of :data:`minqing.kpi.KPIS`, over this year."""
TREND = ("diary_entries", "risks_found", "cases_opened")
"""The monthly trends on the display: dated KPIs of :data:`minqing.kpi.KPIS`."""
RANK_BY = "on_time_rate"
"""The KPI the towns are ranked by."""
GRID_VALUES = ("households", "open_cases", "overdue_cases", "risks_90d", "diary_30d",
               "days_since_diary")
"""Per-grid counters the map can be coloured by (the district map's metrics)."""

ALLOWED: dict[str, frozenset[str]] = {
    "towns": frozenset({"town_id", "code", "name", "kind", *HEADLINE}),
    "town_shapes": frozenset({"town_id", "geometry"}),
    "grids": frozenset({"grid_id", "town_id", "geometry"}),
    "grid_values": frozenset(GRID_VALUES),
    "trend": frozenset(TREND),
}
"""Every column the display may receive, per frame. Town ``name`` is the only text from the store."""


class PersonalDataRefused(PermissionError):
    """A read for the display would have carried a column that is not an aggregate."""


def _only_aggregates(frame: pd.DataFrame, part: str) -> pd.DataFrame:
    extra = sorted(set(map(str, frame.columns)) - ALLOWED[part])
    if extra:
        raise PersonalDataRefused(f"the display may not receive {part} columns {extra}")
    return frame


@dataclass(frozen=True)
class Snapshot:
    """Everything a display shows, read at ``read_at`` for data version ``version``.

    ``towns``: one row per town in scope (id, code, name, kind and the :data:`HEADLINE` KPIs over
    ``since`` to ``today``); ``district``: the same KPIs for the whole scope; ``trends``: the
    :data:`TREND` KPIs by month per view (None for the whole scope, else a town id); ``grids`` /
    ``town_shapes``: polygons in EPSG:4326 with ids only; ``grid_values``: the map's counters per
    grid (indexed by grid id). Rates are NaN when nothing was due. ``level`` is the scope's
    (``district`` or ``town``: a town's display shows that town only).
    """

    version: str
    today: dt.date
    read_at: dt.datetime
    towns: pd.DataFrame
    district: dict[str, float]
    trends: dict[int | None, pd.DataFrame]
    grids: gpd.GeoDataFrame
    town_shapes: gpd.GeoDataFrame
    grid_values: pd.DataFrame
    since: dt.date | None = None
    demo: bool = False
    level: str = "district"

    @property
    def town_ids(self) -> list[int]:
        return [int(t) for t in self.towns["town_id"]]

    def town_name(self, town_id: int) -> str:
        return str(self.towns.set_index("town_id").at[town_id, "name"])

    def figures(self, town_id: int | None) -> dict[str, float]:
        """Headline values for the district (None) or one town."""
        if town_id is None:
            return {key: self.district[key] for key in HEADLINE}
        row = self.towns.set_index("town_id").loc[town_id]
        return {key: float(row[key]) for key in HEADLINE}

    def ranking(self, by: str = RANK_BY) -> pd.DataFrame:
        """Towns ordered best first by ``by`` (ties share the better place): ``rank``, ids, names."""
        table = self.towns[["town_id", "name", by]].copy()
        table["rank"] = table[by].rank(ascending=False, method="min", na_option="bottom").astype(int)
        return table.sort_values(["rank", "town_id"]).reset_index(drop=True)


def _shapes(engine: Engine, model, columns: list, part: str, scope: Scope) -> gpd.GeoDataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(*columns, model.geom).where(scope.where(model))
                            .order_by(model.id)).all()
    names = [c.key for c in columns]
    frame = pd.DataFrame([r[:-1] for r in rows], columns=names)
    shapes = gpd.GeoDataFrame(frame, geometry=[r[-1] for r in rows], crs=CRS)
    return _only_aggregates(shapes, part)


def read_snapshot(engine: Engine, *, scope: Scope, today: dt.date | None = None,
                  version: str | None = None) -> Snapshot:
    """Read everything the display shows for ``scope`` (the display account's jurisdiction).

    Parameters
    ----------
    engine : Engine
    scope : Scope
        Whose jurisdiction: the district or one town.
    today : date, optional
        The day counters are judged on (default :func:`minqing.clock.today`); dated KPIs are
        counted from 1 January of its year, as the overview's default period.
    version : str, optional
        The data version already read by the caller (read here otherwise).

    Returns
    -------
    Snapshot

    Raises
    ------
    PersonalDataRefused
        If any frame would carry a column outside :data:`ALLOWED`.
    """
    today = today or clock_today()
    since = dt.date(today.year, 1, 1)
    version = version if version is not None else data_version(engine)
    period = {"since": since, "until": today, "today": today}
    table = kpi.town_table(engine, scope=scope, kpis=HEADLINE, **period)
    towns = _only_aggregates(table[["town_id", "code", "name", "kind", *HEADLINE]], "towns")
    totals = kpi.headline(engine, scope=scope, kpis=HEADLINE, **period)
    trends = {None: kpi.trend(engine, scope=scope, kpis=TREND, months=TREND_MONTHS, today=today)}
    for town_id in towns["town_id"]:
        trends[int(town_id)] = kpi.trend(engine, scope=scope.narrowed_to_town(int(town_id)),
                                         kpis=TREND, months=TREND_MONTHS, today=today)
    trends = {view: _only_aggregates(frame[list(TREND)], "trend")
              for view, frame in trends.items()}
    values = kpi.grid_counters(engine, scope=scope, today=today)
    return Snapshot(
        version=version, today=today, read_at=clock_now(), towns=towns,
        district={key: float(totals[key]) for key in HEADLINE},
        trends=trends,
        grids=_shapes(engine, Grid, [Grid.id.label("grid_id"), Grid.town_id], "grids", scope),
        town_shapes=_shapes(engine, Town, [Town.id.label("town_id")], "town_shapes", scope),
        grid_values=_only_aggregates(values[list(GRID_VALUES)], "grid_values"),
        since=since,
        demo=dataset_info(engine).get("demo") == "1",
        level=scope.level,
    )


@dataclass(frozen=True)
class Reading:
    """What a display gets on each tick: the last good snapshot (None until the first read
    succeeds), when the store last confirmed it current (``confirmed_at``) and, while the store
    cannot be read, since when (``failing_since``)."""

    snapshot: Snapshot | None
    confirmed_at: dt.datetime | None = None
    failing_since: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.snapshot is not None and self.failing_since is None


@dataclass
class LastGood:
    """The last snapshot that could be read, shared by every display of one app process.

    :meth:`get` is what a display calls on every tick. At most every ``every_s`` seconds one
    caller checks the data version (an index lookup) and the day, and re-reads the snapshot when
    either changed; everyone else gets the current snapshot at once, without waiting. A failed
    read or check leaves the last good snapshot in place and records since when reading fails;
    the next successful check clears it.

    ``version`` and ``read`` are callables so that tests can hand in a store that fails.
    """

    read: Callable[[str, dt.date], Snapshot]
    version: Callable[[], str]
    every_s: float = 60.0
    clock: Callable[[], float] = time.monotonic
    today: Callable[[], dt.date] = clock_today
    now: Callable[[], dt.datetime] = clock_now
    _snapshot: Snapshot | None = field(default=None, init=False)
    _confirmed_at: dt.datetime | None = field(default=None, init=False)
    _failing_since: dt.datetime | None = field(default=None, init=False)
    _checked: float | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def get(self) -> Reading:
        # the first read blocks everyone (there is nothing to show yet); later checks are done
        # by one caller while the others go on showing the current snapshot
        if self._due() and self._lock.acquire(blocking=self._snapshot is None):
            try:
                if self._due():
                    self._refresh()
            finally:
                self._lock.release()
        return Reading(self._snapshot, self._confirmed_at, self._failing_since)

    def _due(self) -> bool:
        return self._checked is None or self.clock() - self._checked >= self.every_s

    def _refresh(self) -> None:
        try:
            version, day = self.version(), self.today()
            current = self._snapshot
            if current is None or current.version != version or current.today != day:
                self._snapshot = self.read(version, day)
        except (SQLAlchemyError, OSError) as exc:
            if self._failing_since is None:
                log.warning("display: the store cannot be read, keeping the last values: %s", exc)
                self._failing_since = self.now()
        else:
            if self._failing_since is not None:
                log.warning("display: the store can be read again")
            self._failing_since = None
            self._confirmed_at = self.now()
        finally:
            self._checked = self.clock()

    @classmethod
    def for_engine(cls, engine: Engine, *, scope: Scope, every_s: float = 60.0) -> LastGood:
        """A keeper reading ``scope`` of ``engine`` through :func:`read_snapshot`."""
        return cls(read=lambda version, day: read_snapshot(engine, scope=scope, today=day,
                                                           version=version),
                   version=lambda: data_version(engine), every_s=every_s)
