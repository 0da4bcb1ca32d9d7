"""Importing real grids and households: preview a report first, then apply it all or nothing.

Two steps, for the data officer's page and for ``minqing import``:

1. :func:`minqing.grid_import.preview_grids` / :func:`minqing.household_import.preview_households`
   read a file, check every row against the file itself and the store, and return a
   :class:`Plan`: the :class:`ImportReport` (every finding by row and field, with what will
   happen) and the rows that would be written. Nothing is written.
2. :func:`apply` writes a plan in one transaction. Any error rolls everything back; a plan that
   is blocked (a question to answer) or was previewed against an older state of the store is
   refused, so a failed or cancelled import changes nothing stored.

This module holds what both imports share: the report, the plan, apply, and the helpers that
map a file's column headers and read the store's district.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, select

from geo.importing import (
    Finding,
    UnreadableFile,
)
from minqing.access import MOVES_DATA, AccessDenied
from minqing.errors import ConflictError
from minqing.models import Area, Grid, Household, Town
from minqing.registry import data_version, data_version_of
from minqing.scope import Scope

__all__ = [
    "ImportReport",
    "Plan",
    "StalePlan",
    "apply",
    "describe",
    "findings_frame",
]

Progress = Callable[[str, float], None]


class StalePlan(RuntimeError):
    """The store changed after the preview: the plan no longer describes what would happen."""


@dataclass
class ImportReport:
    """What an import found and would do; ``counts`` by outcome, ``moved`` households."""

    kind: str  # "grids" or "households"
    source: str
    rows: int = 0
    encoding: str | None = None
    crs: str | None = None
    datum: str = "wgs84"
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    moved: list[dict] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        """True when the import cannot be applied until the user answers (or fixes the file)."""
        return any(f.action == "ask" for f in self.findings)

    def problem_rows(self) -> set[int]:
        return {f.row for f in self.findings if f.row is not None and f.action != "note"}

    def as_dict(self) -> dict:
        return {
            "kind": self.kind, "source": self.source, "rows": self.rows,
            "encoding": self.encoding, "crs": self.crs, "datum": self.datum,
            "blocked": self.blocked, "counts": self.counts,
            "findings": [f.as_dict() for f in self.findings], "moved": self.moved,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, default=str)


@dataclass
class Plan:
    """A previewed import: its report and what :func:`apply` would write."""

    report: ImportReport
    stamp: str  # the store's data version at preview time
    inserts: pd.DataFrame | None = None
    updates: pd.DataFrame | None = None
    new_towns: list[dict] = field(default_factory=list)
    new_areas: list[dict] = field(default_factory=list)
    moves: pd.DataFrame | None = None  # households that change grid: id, grid_code, town
    assignment: pd.DataFrame | None = None  # every stored household's grid code afterwards
    preview: gpd.GeoDataFrame | None = None  # what the map shows: rows with a ``problem`` flag
    writer: Callable[[Connection, Plan, str, Progress | None], None] | None = None  # for apply

    @property
    def applicable(self) -> bool:
        return not self.report.blocked and bool(
            (self.inserts is not None and len(self.inserts))
            or (self.updates is not None and len(self.updates))
            or (self.moves is not None and len(self.moves)))


# --- helpers shared by both imports ------------------------------------------------------------


def norm_header(name: str) -> str:
    return re.sub(r"[\s_\-（）()]", "", str(name)).lower()


def map_columns(columns: list[str], fields: dict[str, tuple[str, ...]],
                ignore: tuple[str, ...] = ()) -> dict[str, str]:
    """field -> the file's column for it (first alias that matches; each column used once).

    Words in ``ignore`` (e.g. a datum named in ``经度(高德)``) are dropped from the file's headers
    before comparing, longest first.
    """
    by_norm = {}
    words = sorted((norm_header(w) for w in ignore), key=len, reverse=True)
    for col in columns:
        key = norm_header(col)
        by_norm.setdefault(key, col)
        for word in words:
            key = key.replace(word, "")
        by_norm.setdefault(key, col)
    found: dict[str, str] = {}
    used: set[str] = set()
    for name, aliases in fields.items():
        for alias in aliases:
            col = by_norm.get(norm_header(alias))
            if col is not None and col not in used:
                found[name] = col
                used.add(col)
                break
    return found


def text_cells(series: pd.Series, *, fold: bool = False, excel: bool = False) -> pd.Series:
    """Cells as stripped text (NaN -> ''). ``fold`` folds full-width digits and letters (NFKC)
    in the rows that are not plain ASCII; ``excel`` turns numbers read as floats back into
    digits (``13800000000.0``)."""
    out = series.astype(object).where(series.notna(), "").astype(str).str.strip()
    if fold:
        wide = ~out.str.isascii()
        if wide.any():
            out[wide] = out[wide].str.normalize("NFKC").str.strip()
    if excel:
        out = out.str.replace(r"^(\d+)\.0$", r"\1", regex=True)
    return out


def store_context(engine: Engine, scope: Scope | None = None) -> dict:
    """The district as stored: towns, areas, grids, the district outline (None if empty), and
    the towns and grids ``scope`` may import into (None: all of them)."""
    scope = scope or Scope.district()
    with engine.connect() as conn:
        towns_in = None if scope.level == "district" else set(
            conn.scalars(select(Town.id).where(scope.where(Town))))
        grids_in = None if scope.level == "district" else set(
            conn.scalars(select(Grid.id).where(scope.where(Grid))))
        towns = pd.DataFrame(conn.execute(select(Town.id, Town.code, Town.name, Town.kind,
                                                 Town.geom)).mappings().all(),
                             columns=["id", "code", "name", "kind", "geom"])
        areas = pd.DataFrame(conn.execute(select(Area.id, Area.town_id, Area.name)).mappings().all(),
                             columns=["id", "town_id", "name"])
        grids = pd.DataFrame(conn.execute(select(Grid.id, Grid.code, Grid.name, Grid.kind,
                                                 Grid.town_id, Grid.area_id, Grid.village,
                                                 Grid.geom).where(Grid.active.is_(True)))
                             .mappings().all(),
                             columns=["id", "code", "name", "kind", "town_id", "area_id", "village",
                                      "geom"])
    district = shapely.union_all(towns["geom"].to_numpy()) if len(towns) else None
    if district is not None and district.is_empty:
        district = None
    return {"towns": towns, "areas": areas, "grids": grids, "district": district,
            "version": data_version(engine), "towns_in": towns_in, "grids_in": grids_in}


class within:
    """An open transaction handed to an engine-taking store function (``engine.begin()`` /
    ``engine.connect()``) so that its writes join the import's one transaction.

    :func:`minqing.layers.create_layer` and :func:`~minqing.layers.publish_layer` each open
    their own transaction; through this they run inside the import's, so a failure anywhere
    rolls back the towns, the grids, the new layer version and the moves together.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        yield self._conn

    connect = begin


def unreadable_plan(report: ImportReport, exc: UnreadableFile, stamp: str) -> Plan:
    report.findings.append(Finding(f"file_{exc.code}", "ask",
                                   detail={k: str(v) for k, v in exc.detail.items()}))
    return Plan(report=report, stamp=stamp)


def tick(progress: Progress | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, fraction)


def stored_households(engine: Engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(
            conn.execute(select(Household.id, Household.code, Household.grid_id,
                                Household.town_id, Household.head_name, Household.phone,
                                Household.id_number, Household.address, Household.size,
                                Household.tags, Household.lon, Household.lat)).all(),
            columns=["id", "code", "grid_id", "town_id", "head_name", "phone", "id_number",
                     "address", "size", "tags", "lon", "lat"])


def locate(lon: np.ndarray, lat: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the polygon each point lies in (-1 for none; the first one on shared edges)."""
    out = np.full(len(lon), -1, dtype=np.int64)
    if not len(lon) or not len(polygons):
        return out
    tree = shapely.STRtree(polygons)
    points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    which, poly = tree.query(points, predicate="intersects")
    order = np.lexsort((poly, which))
    which, poly = which[order], poly[order]
    first = np.r_[True, which[1:] != which[:-1]] if len(which) else np.array([], dtype=bool)
    out[which[first]] = poly[first]
    return out


# --- apply -------------------------------------------------------------------------------------

def apply(engine: Engine, plan: Plan, *, scope: Scope | None = None, actor: str | None = None,
          progress: Progress | None = None) -> dict[str, int]:
    """Write a previewed plan in one transaction; return the counts written.

    ``scope`` is the importer's (its viewer must be allowed to move data); who imported
    (``actor``, by default the viewer) is recorded on the grid layer version a grid import
    creates. Preview with the same scope: rows outside its jurisdiction were left out there.

    Raises
    ------
    AccessDenied
        The viewer's role does not import data.
    StalePlan
        The store changed since the preview (or the report is blocked).
    """
    scope = scope or Scope.district()
    if scope.viewer is not None and scope.role not in MOVES_DATA:
        raise AccessDenied("data.error.import_not_allowed")
    actor = actor or scope.actor("import")
    if plan.report.blocked:
        raise StalePlan("blocked")
    if not plan.applicable:  # nothing new: no empty layer version, no write at all
        return dict(plan.report.counts)
    with engine.begin() as conn:
        if data_version_of(conn) != plan.stamp:
            raise StalePlan("stale")
        if plan.writer is not None:
            try:
                plan.writer(conn, plan, actor, progress)
            except ConflictError as exc:  # another layer version was published meanwhile
                raise StalePlan("stale") from exc
    tick(progress, "applied", 1.0)
    return dict(plan.report.counts)


# --- words -------------------------------------------------------------------------------------


def describe(finding: Finding, lang: str = "zh") -> tuple[str, str]:
    """(what was found, what will happen) for one finding, in ``lang``."""
    from minqing.i18n import t

    detail = {k: str(v) for k, v in finding.detail.items()}
    if "how" in detail:
        detail["how"] = t(f"import.how.{detail['how']}", lang)
    detail.setdefault("value", finding.value)
    detail.setdefault("field", finding.field or "")
    try:
        message = t(f"import.{finding.code}", lang, **detail)
    except (KeyError, IndexError):
        message = t(f"import.{finding.code}", lang)
    return message, t(f"import.action.{finding.action}", lang)


def findings_frame(report: ImportReport, lang: str = "zh") -> pd.DataFrame:
    """The report's findings as a table of text: row, field, value, severity, finding, what
    happens (file-wide findings have an empty row)."""
    from minqing.i18n import t

    rows = []
    for f in report.findings:
        message, action = describe(f, lang)
        field_label = t(f"data.field.{f.field}", lang) if f.field else ""
        rows.append({"row": "" if f.row is None else str(f.row), "field": field_label,
                     "value": f.value,
                     "severity": t(f"data.severity.{f.severity}", lang), "message": message,
                     "action": action})
    return pd.DataFrame(rows, columns=["row", "field", "value", "severity", "message", "action"])
