"""Importing real grids and households: preview a report first, then apply it all or nothing.

Two steps, for the data officer's page and for ``minqing import``:

1. ``preview_grids(engine, path)`` / ``preview_households(engine, path)`` read the file, check
   every row against the file itself and the store, and return a :class:`Plan`: the
   :class:`ImportReport` (every finding by row and field, with what will happen) and the rows
   that would be written. Nothing is written.
2. ``apply(engine, plan)`` writes the plan in one transaction. Any error rolls everything back;
   a plan previewed against an older state of the store is refused (preview again).

Household files are CSV (UTF-8 with or without BOM, or GBK/GB18030) or Excel .xlsx. Row numbers
are the lines a spreadsheet shows (the header is line 1). Grid files are read by
:mod:`geo.importing`.

A grid import adds new grids and updates changed ones in the current grid layer; grids of the
store that the file leaves out are kept (they still carry diary entries and cases). Households
whose location now falls in another grid are moved, and listed in the report.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon
from sqlalchemy import Engine, bindparam, insert, select, update

from geo.importing import (
    LAT_RANGE,
    LON_RANGE,
    Finding,
    UnreadableFile,
    check_coverage,
    code_pattern,
    convert_datum,
    convert_geometry_datum,
    decode_text,
    infer_crs,
    metric_crs_for,
    outside,
    outside_xy,
    read_grid_layer,
    repair_geometries,
    to_wgs84,
)
from minqing.bulk import encode_geometries, insert_rows
from minqing.models import Area, DatasetInfo, Grid, Household, Town
from minqing.registry import data_version, data_version_of
from minqing.vocab import GridKind, HouseholdTag, TownKind

__all__ = [
    "GRID_FIELDS",
    "HOUSEHOLD_FIELDS",
    "ImportReport",
    "Plan",
    "StalePlan",
    "apply",
    "preview_grids",
    "preview_households",
]

Progress = Callable[[str, float], None]
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx")

# field -> accepted column headers (compared case-insensitively, spaces ignored)
GRID_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("code", "grid_code", "网格编码", "网格代码", "网格编号", "wgbm", "bm"),
    "name": ("name", "grid_name", "网格名称", "网格名", "名称", "wgmc", "mc"),
    "town": ("town", "town_name", "镇街", "乡镇", "街道", "镇街名称", "所属镇街"),
    "area": ("area", "片区", "片", "所属片区"),
    "kind": ("kind", "type", "类型", "网格类型"),
}
HOUSEHOLD_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("code", "household_code", "户编码", "户号", "户编号", "家庭编号"),
    "head_name": ("head_name", "name", "户主", "户主姓名", "姓名"),
    "phone": ("phone", "tel", "mobile", "电话", "联系电话", "手机", "手机号"),
    "id_number": ("id_number", "id_card", "身份证号", "身份证号码", "公民身份号码"),
    "address": ("address", "地址", "住址", "家庭住址"),
    "size": ("size", "members", "人口", "家庭人口", "人数"),
    "tags": ("tags", "标签", "户类别", "特殊户"),
    "lon": ("lon", "lng", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "grid_code": ("grid_code", "网格编码", "所属网格", "网格"),
}
REQUIRED = {"grids": ("code",), "households": ("code", "head_name")}
# column headers that say the coordinates come from a web map
_DATUM_HINTS = (("bd09", ("bd09", "bd", "baidu", "百度")), ("gcj02", ("gcj", "gcj02", "高德", "gaode", "amap", "腾讯")))
_LIMITS = {"code": 32, "head_name": 32, "phone": 20, "id_number": 18, "address": 128}
_PHONE = r"1\d{10}|0\d{2,3}-?\d{7,8}"
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = "10X98765432"
_TAG_SPLIT = re.compile(r"[,，、;；/\s]+")
MAX_SIZE = 30
_FOLDED = ("code", "phone", "id_number", "size", "lon", "lat", "grid_code")  # full-width digits


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
    moves: pd.DataFrame | None = None  # household id, grid id, town id
    preview: gpd.GeoDataFrame | None = None  # what the map shows: rows with a ``problem`` flag

    @property
    def applicable(self) -> bool:
        return not self.report.blocked and bool(
            (self.inserts is not None and len(self.inserts))
            or (self.updates is not None and len(self.updates))
            or (self.moves is not None and len(self.moves)))


# --- helpers shared by both imports ------------------------------------------------------------


def _norm_header(name: str) -> str:
    return re.sub(r"[\s_\-（）()]", "", str(name)).lower()


def _map_columns(columns: list[str], fields: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """field -> the file's column for it (first alias that matches; each column used once)."""
    by_norm = {}
    for col in columns:
        by_norm.setdefault(_norm_header(col), col)
    found: dict[str, str] = {}
    used: set[str] = set()
    for name, aliases in fields.items():
        for alias in aliases:
            col = by_norm.get(_norm_header(alias))
            if col is not None and col not in used:
                found[name] = col
                used.add(col)
                break
    return found


def _text(series: pd.Series, *, fold: bool = False, excel: bool = False) -> pd.Series:
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


def _store_context(engine: Engine) -> dict:
    """The district as stored: towns, areas, grids, and the district outline (None if empty)."""
    with engine.connect() as conn:
        towns = pd.DataFrame(conn.execute(select(Town.id, Town.code, Town.name, Town.kind,
                                                 Town.geom)).mappings().all(),
                             columns=["id", "code", "name", "kind", "geom"])
        areas = pd.DataFrame(conn.execute(select(Area.id, Area.town_id, Area.name)).mappings().all(),
                             columns=["id", "town_id", "name"])
        grids = pd.DataFrame(conn.execute(select(Grid.id, Grid.code, Grid.name, Grid.kind,
                                                 Grid.town_id, Grid.area_id, Grid.geom))
                             .mappings().all(),
                             columns=["id", "code", "name", "kind", "town_id", "area_id", "geom"])
    district = shapely.union_all(towns["geom"].to_numpy()) if len(towns) else None
    if district is not None and district.is_empty:
        district = None
    return {"towns": towns, "areas": areas, "grids": grids, "district": district,
            "version": data_version(engine)}


def _report_unreadable(report: ImportReport, exc: UnreadableFile, stamp: str) -> Plan:
    report.findings.append(Finding(f"file_{exc.code}", "ask",
                                   detail={k: str(v) for k, v in exc.detail.items()}))
    return Plan(report=report, stamp=stamp)


def _tick(progress: Progress | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, fraction)


def _stored_households(engine: Engine) -> pd.DataFrame:
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


# --- grids -------------------------------------------------------------------------------------


def _town_kind(name: str) -> str:
    return TownKind.SUBDISTRICT.value if name.endswith("街道") else TownKind.TOWN.value


def _grid_kind(raw: str, town_kind: str) -> str | None:
    value = raw.strip().lower()
    if value in ("rural", "农村", "村", "村网格", "农村网格"):
        return GridKind.RURAL.value
    if value in ("urban", "城市", "社区", "社区网格", "城市网格", "城镇"):
        return GridKind.URBAN.value
    if value:
        return None
    return GridKind.URBAN.value if town_kind == TownKind.SUBDISTRICT.value else GridKind.RURAL.value


def preview_grids(engine: Engine, path: str | Path, *, crs: str | None = None,
                  datum: str = "wgs84", progress: Progress | None = None) -> Plan:
    """Read and check a grid layer against the store; nothing is written.

    Parameters
    ----------
    engine : Engine
    path : str or Path
        GeoPackage, zipped Shapefile, GeoJSON or KML.
    crs : str, optional
        The source CRS when the user has been asked (``EPSG:4549``); overrides the file.
    datum : {"wgs84", "gcj02", "bd09"}
        The datum of geographic coordinates (web-map files are GCJ-02 or BD-09).
    progress : callable, optional
        Called with (stage, fraction done).

    Returns
    -------
    Plan
    """
    path = Path(path)
    ctx = _store_context(engine)
    report = ImportReport(kind="grids", source=path.name, datum=datum)
    _tick(progress, "read", 0.0)
    try:
        layer = read_grid_layer(path)
    except UnreadableFile as exc:
        return _report_unreadable(report, exc, ctx["version"])
    report.rows, report.encoding = len(layer.frame), layer.encoding
    report.findings += layer.findings
    columns = _map_columns([c for c in layer.frame.columns if c not in ("_row", "geometry")],
                           GRID_FIELDS)
    missing = [f for f in REQUIRED["grids"] if f not in columns]
    for name in missing:
        report.findings.append(Finding("field_missing", "ask", field=name,
                                       detail={"aliases": " / ".join(GRID_FIELDS[name][:4])}))
    if missing:
        return Plan(report=report, stamp=ctx["version"])
    _tick(progress, "crs", 0.2)
    district = ctx["district"]
    near_lon = district.centroid.x if district is not None else None
    frame, choice, found = to_wgs84(layer.frame, layer.declared_crs, crs=crs, near_lon=near_lon)
    report.findings += found
    report.crs = choice.crs
    if frame is None:
        return Plan(report=report, stamp=ctx["version"])
    if datum != "wgs84":
        frame["geometry"] = convert_geometry_datum(frame.geometry.to_numpy(), datum)
        report.findings.append(Finding("datum_converted", "convert", value=datum))
    metric = metric_crs_for(frame.geometry.to_numpy())
    _tick(progress, "repair", 0.4)
    frame, found = repair_geometries(frame, metric)
    report.findings += found
    table = pd.DataFrame({"row": frame["_row"].to_numpy()})
    for name in GRID_FIELDS:
        table[name] = _text(frame[columns[name]], fold=name == "code") if name in columns else ""
    keep = np.ones(len(table), dtype=bool)
    _row_checks_grids(table, frame, ctx, metric, keep, report)
    frame, table = frame[keep].reset_index(drop=True), table[keep].reset_index(drop=True)
    _tick(progress, "places", 0.6)
    plan = _place_grids(table, frame, ctx, report)
    _tick(progress, "coverage", 0.75)
    checked = gpd.GeoDataFrame({"_row": table["row"], "code": table["code"]},
                               geometry=frame.geometry.to_numpy(), crs="EPSG:4326")
    report.findings += check_coverage(checked, metric, district=district)
    _tick(progress, "households", 0.85)
    _grid_moves(engine, plan, ctx, report)
    report.findings.sort(key=lambda f: (f.row is None, f.row or 0))
    problems = report.problem_rows()
    preview = gpd.GeoDataFrame({"row": table["row"], "code": table["code"],
                                "name": table["name"],
                                "problem": table["row"].isin(problems)},
                               geometry=frame.geometry.to_numpy(), crs="EPSG:4326")
    plan.preview = preview
    _tick(progress, "done", 1.0)
    return plan


def _row_checks_grids(table: pd.DataFrame, frame: gpd.GeoDataFrame, ctx: dict, metric: str,
                      keep: np.ndarray, report: ImportReport) -> None:
    rows = table["row"].to_numpy()
    codes = table["code"]
    f = report.findings
    for i in np.flatnonzero(codes.eq("").to_numpy()):
        f.append(Finding("value_empty", "skip", row=int(rows[i]), field="code"))
        keep[i] = False
    dup = codes.duplicated(keep="first").to_numpy() & keep
    first_row = dict(zip(codes[~codes.duplicated()], rows[~codes.duplicated().to_numpy()],
                         strict=True))
    for i in np.flatnonzero(dup):
        f.append(Finding("duplicate_code", "skip", row=int(rows[i]), field="code",
                         value=codes.iloc[i], detail={"first_row": int(first_row[codes.iloc[i]])}))
        keep[i] = False
    pattern = code_pattern(codes)
    prefix = str(ctx["towns"]["code"].iloc[0])[:6] if len(ctx["towns"]) else None
    for i in np.flatnonzero(keep & ~pattern):
        f.append(Finding("grid_code_pattern", "keep", row=int(rows[i]), field="code",
                         value=codes.iloc[i]))
    if prefix:
        for i in np.flatnonzero(keep & pattern & ~codes.str.startswith(prefix).to_numpy()):
            f.append(Finding("grid_code_district", "keep", row=int(rows[i]), field="code",
                             value=codes.iloc[i], detail={"prefix": prefix}))
    for i in np.flatnonzero(keep & table["name"].eq("").to_numpy()):
        f.append(Finding("name_default", "default", row=int(rows[i]), field="name"))
    table.loc[table["name"].eq(""), "name"] = table["code"]
    if ctx["district"] is not None and len(frame):
        away = outside(frame.geometry.to_numpy(), ctx["district"], metric)
        for i in np.flatnonzero(keep & away):
            point = frame.geometry.iloc[i].representative_point()
            f.append(Finding("outside_district", "skip", row=int(rows[i]), field="geometry",
                             value=codes.iloc[i],
                             detail={"lon": round(point.x, 5), "lat": round(point.y, 5)}))
            keep[i] = False


def _place_grids(table: pd.DataFrame, frame: gpd.GeoDataFrame, ctx: dict,
                 report: ImportReport) -> Plan:
    """Town, area and kind of every grid; new towns and areas; inserts and updates."""
    towns, areas, stored = ctx["towns"], ctx["areas"], ctx["grids"]
    by_name = dict(zip(towns["name"], towns["id"], strict=True))
    by_code = dict(zip(towns["code"].astype(str), towns["id"], strict=True))
    kind_of = dict(zip(towns["id"], towns["kind"], strict=True))
    geoms = frame.geometry.to_numpy()
    spatial = locate(*shapely.get_coordinates(shapely.point_on_surface(geoms)).T,
                     towns["geom"].to_numpy()) if len(towns) and len(geoms) else \
        np.full(len(geoms), -1)
    new_towns: dict[str, dict] = {}
    town_ref: list[object] = []  # an existing id, or ("new", key)
    keep = np.ones(len(table), dtype=bool)
    for i, row in enumerate(table.itertuples(index=False)):
        ref = by_name.get(row.town) or by_code.get(row.town) or by_code.get(row.code[:9])
        if ref is None and spatial[i] >= 0 and not row.town:
            ref = int(towns["id"].iloc[spatial[i]])
        if ref is None and (row.town or len(row.code) == 15):
            key = row.town or row.code[:9]
            code = row.code[:9] if len(row.code) == 15 else key
            if key not in new_towns:
                new_towns[key] = {"key": key, "code": code, "name": row.town or code,
                                  "kind": _town_kind(row.town), "rows": []}
                report.findings.append(Finding("town_new", "note", row=int(row.row), field="town",
                                               value=new_towns[key]["name"]))
            new_towns[key]["rows"].append(i)
            ref = ("new", key)
        if ref is None:
            report.findings.append(Finding("town_unknown", "skip", row=int(row.row), field="town",
                                           value=row.town))
            keep[i] = False
        town_ref.append(ref)
    # kinds, areas
    kinds, area_refs = [], []
    area_index = {(int(t), n): int(a) for a, t, n in areas[["id", "town_id", "name"]].itertuples(
        index=False)}
    new_areas: dict[tuple, dict] = {}
    for i, row in enumerate(table.itertuples(index=False)):
        ref = town_ref[i]
        tkind = new_towns[ref[1]]["kind"] if isinstance(ref, tuple) else kind_of.get(ref, "town")
        kind = _grid_kind(row.kind, tkind)
        if kind is None:
            report.findings.append(Finding("grid_kind_unknown", "default", row=int(row.row),
                                           field="kind", value=row.kind))
            kind = _grid_kind("", tkind)
        kinds.append(kind)
        if ref is None:
            area_refs.append(None)
            continue
        existing_code = stored.loc[stored["code"] == row.code]
        if not row.area and len(existing_code) and not isinstance(ref, tuple) \
                and int(existing_code["town_id"].iloc[0]) == ref:
            area_refs.append(int(existing_code["area_id"].iloc[0]))
            continue
        town_name = new_towns[ref[1]]["name"] if isinstance(ref, tuple) else \
            str(towns.loc[towns["id"] == ref, "name"].iloc[0])
        area_name = row.area or town_name
        if not isinstance(ref, tuple) and (int(ref), area_name) in area_index:
            area_refs.append(area_index[(int(ref), area_name)])
            continue
        if not isinstance(ref, tuple) and not row.area:
            own = areas.loc[areas["town_id"] == ref, "id"]
            if len(own):
                area_refs.append(int(own.min()))
                continue
        akey = (ref if isinstance(ref, tuple) else int(ref), area_name)
        if akey not in new_areas:
            new_areas[akey] = {"key": akey, "town": akey[0], "name": area_name}
            report.findings.append(Finding("area_new", "note", row=int(row.row), field="area",
                                           value=area_name))
        area_refs.append(("new", akey))
    out = pd.DataFrame({"row": table["row"], "code": table["code"], "name": table["name"],
                        "kind": kinds, "town": town_ref, "area": area_refs})
    out["geom"] = geoms
    out = out[keep].reset_index(drop=True)
    for key, town in new_towns.items():
        members = out.loc[out["town"].map(lambda r, k=key: r == ("new", k)), "geom"].to_numpy()
        town["geom"] = MultiPolygon(list(_polygons(shapely.union_all(members))))
    # compare with the store
    known = stored.set_index("code")
    is_old = out["code"].isin(known.index).to_numpy()
    updates_mask = np.zeros(len(out), dtype=bool)
    unchanged = 0
    for i in np.flatnonzero(is_old):
        old = known.loc[out["code"].iloc[i]]
        same = (old["name"] == out["name"].iloc[i] and old["kind"] == out["kind"].iloc[i]
                and old["town_id"] == out["town"].iloc[i] and old["area_id"] == out["area"].iloc[i]
                and shapely.equals_exact(old["geom"], out["geom"].iloc[i], tolerance=1e-7))
        if same:
            unchanged += 1
        else:
            updates_mask[i] = True
    updates = out[updates_mask].copy()
    updates["id"] = known.loc[updates["code"], "id"].to_numpy() if len(updates) else []
    left_out = sorted(set(known.index) - set(out["code"]))
    if left_out:
        report.findings.append(Finding("grids_not_in_file", "keep",
                                       detail={"n": len(left_out),
                                               "codes": ", ".join(left_out[:5])}))
    report.counts = {"new": int((~is_old).sum()), "updated": int(updates_mask.sum()),
                     "unchanged": unchanged, "skipped": int(report.rows - len(out)),
                     "towns_new": len(new_towns), "areas_new": len(new_areas)}
    return Plan(report=report, stamp=ctx["version"], inserts=out[~is_old].reset_index(drop=True),
                updates=updates.reset_index(drop=True), new_towns=list(new_towns.values()),
                new_areas=list(new_areas.values()))


def _polygons(geom):
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]


def _grid_moves(engine: Engine, plan: Plan, ctx: dict, report: ImportReport) -> None:
    """Households of the store whose location falls in another grid of the new layer."""
    stored = ctx["grids"]
    if stored.empty:
        report.counts["moved"] = 0
        plan.moves = pd.DataFrame(columns=["id", "grid_code", "town"])
        return
    changed = set(plan.updates["code"]) if plan.updates is not None else set()
    kept = stored[~stored["code"].isin(changed)]
    layer_codes = list(kept["code"]) + list(plan.updates["code"]) + list(plan.inserts["code"])
    layer_geoms = np.concatenate([kept["geom"].to_numpy(), plan.updates["geom"].to_numpy(),
                                  plan.inserts["geom"].to_numpy()])
    layer_towns = list(kept["town_id"]) + list(plan.updates["town"]) + list(plan.inserts["town"])
    homes = _stored_households(engine)
    if homes.empty:
        report.counts["moved"] = 0
        plan.moves = pd.DataFrame(columns=["id", "grid_code", "town"])
        return
    where = locate(homes["lon"].to_numpy(), homes["lat"].to_numpy(), layer_geoms)
    old_code = homes["grid_id"].map(dict(zip(stored["id"], stored["code"], strict=True)))
    new_code = pd.Series(np.array(layer_codes, dtype=object)[np.maximum(where, 0)],
                         index=homes.index).where(where >= 0, None)
    moved = (where >= 0) & (new_code != old_code).to_numpy()
    lost = int((where < 0).sum())
    if lost:
        report.findings.append(Finding("households_outside_layer", "keep", detail={"n": lost}))
    idx = np.flatnonzero(moved)
    plan.moves = pd.DataFrame({"id": homes["id"].to_numpy()[idx],
                               "grid_code": new_code.to_numpy()[idx],
                               "town": np.array(layer_towns, dtype=object)[where[idx]]})
    report.moved = [{"household": c, "from": a, "to": b} for c, a, b in zip(
        homes["code"].to_numpy()[idx], old_code.to_numpy()[idx], new_code.to_numpy()[idx],
        strict=True)]
    report.counts["moved"] = len(idx)


# --- households --------------------------------------------------------------------------------


def read_table(path: Path) -> tuple[pd.DataFrame, str | None]:
    """A CSV (encoding detected) or .xlsx file as text cells; returns (frame, encoding)."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise UnreadableFile("unknown_format", suffix=suffix or "-")
    try:
        if suffix == ".xlsx":
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
            return frame, None
        text, encoding = decode_text(path.read_bytes())
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            skipinitialspace=True, on_bad_lines="error")
    except UnreadableFile:
        raise
    except (ValueError, OSError, pd.errors.ParserError, KeyError) as exc:
        raise UnreadableFile("corrupt", reason=str(exc)[:200]) from exc
    return frame, encoding


def _datum_from_headers(columns: dict[str, str]) -> str | None:
    heads = " ".join(_norm_header(columns.get(k, "")) for k in ("lon", "lat"))
    for datum, hints in _DATUM_HINTS:
        if any(h in heads for h in hints):
            return datum
    return None


def _id_number_valid(values: pd.Series) -> np.ndarray:
    """18-character resident ID numbers with a correct GB 11643 check character."""
    ok = values.str.fullmatch(r"\d{17}[\dXx]").to_numpy()
    out = np.zeros(len(values), dtype=bool)
    if ok.any():
        digits = np.array([list(v[:17]) for v in values[ok]], dtype=int)
        check = np.array(list(_ID_CHECK))[(digits @ _ID_WEIGHTS) % 11]
        out[ok] = check == values[ok].str[17].str.upper().to_numpy()
    return out


def _tag_lookup() -> dict[str, str]:
    from minqing.i18n import t

    out = {}
    for tag in HouseholdTag:
        out[tag.value] = tag.value
        out[t(f"tag.{tag.value}", "zh")] = tag.value
        out[t(f"tag.{tag.value}", "en").lower()] = tag.value
    return out


def preview_households(engine: Engine, path: str | Path, *, datum: str | None = None,
                       crs: str | None = None, progress: Progress | None = None) -> Plan:
    """Read and check a household list against the store's grids; nothing is written.

    Parameters
    ----------
    engine : Engine
    path : str or Path
        CSV (UTF-8 ± BOM, GBK/GB18030) or .xlsx with a header row.
    datum : {"wgs84", "gcj02", "bd09"}, optional
        The coordinates' datum; by default guessed from the column headers (``经度_高德``,
        ``bd09_lng``...), else WGS84.
    crs : str, optional
        For coordinates in metres whose zone cannot be inferred.
    progress : callable, optional

    Returns
    -------
    Plan
    """
    path = Path(path)
    ctx = _store_context(engine)
    report = ImportReport(kind="households", source=path.name)
    _tick(progress, "read", 0.0)
    try:
        raw, encoding = read_table(path)
    except UnreadableFile as exc:
        return _report_unreadable(report, exc, ctx["version"])
    report.rows, report.encoding = len(raw), encoding
    if encoding:
        report.findings.append(Finding("encoding_detected", "note", detail={"encoding": encoding}))
    columns = _map_columns(list(raw.columns), HOUSEHOLD_FIELDS)
    missing = [f for f in REQUIRED["households"] if f not in columns]
    if not ({"lon", "lat"} <= set(columns) or "grid_code" in columns):
        missing.append("lon")
    for name in missing:
        report.findings.append(Finding("field_missing", "ask", field=name, detail={
            "aliases": " / ".join(HOUSEHOLD_FIELDS[name][:4])}))
    if ctx["grids"].empty:
        report.findings.append(Finding("no_grids", "ask"))
    if missing or ctx["grids"].empty:
        return Plan(report=report, stamp=ctx["version"])
    guessed = _datum_from_headers(columns)
    report.datum = datum or guessed or "wgs84"
    if guessed and not datum:
        report.findings.append(Finding("datum_from_header", "convert", field="lon",
                                       value=columns["lon"], detail={"datum": guessed}))
    elif report.datum != "wgs84":
        report.findings.append(Finding("datum_converted", "convert", value=report.datum))
    table = pd.DataFrame({"row": np.arange(2, len(raw) + 2)})
    excel = path.suffix.lower() == ".xlsx"
    for name in HOUSEHOLD_FIELDS:
        fold = name in _FOLDED
        table[name] = _text(raw[columns[name]], fold=fold, excel=excel and fold).to_numpy() \
            if name in columns else ""
    _tick(progress, "check", 0.1)
    keep = np.ones(len(table), dtype=bool)
    f = report.findings
    rows = table["row"].to_numpy()

    def each(mask, code, action, name, detail=None):
        values = table[name].to_numpy() if name in table else None
        for i in np.flatnonzero(mask):
            f.append(Finding(code, action, row=int(rows[i]), field=name,
                             value="" if values is None else str(values[i])[:60],
                             detail=detail or {}))

    for name in REQUIRED["households"]:
        empty = keep & table[name].eq("").to_numpy()
        each(empty, "value_empty", "skip", name)
        keep &= ~empty
    codes = table["code"]
    dup = keep & codes.duplicated(keep="first").to_numpy()
    if dup.any():
        firsts = dict(zip(codes[~codes.duplicated()], rows[~codes.duplicated().to_numpy()],
                          strict=True))
        for i in np.flatnonzero(dup):
            f.append(Finding("duplicate_code", "skip", row=int(rows[i]), field="code",
                             value=codes.iloc[i], detail={"first_row": int(firsts[codes.iloc[i]])}))
        keep &= ~dup
    long_code = keep & (codes.str.len() > _LIMITS["code"]).to_numpy()
    each(long_code, "value_too_long", "skip", "code", {"limit": _LIMITS["code"]})
    keep &= ~long_code
    _tick(progress, "coordinates", 0.25)
    lon, lat = _coordinates(table, keep, report, ctx, crs)
    _tick(progress, "grids", 0.45)
    grid_idx = _assign_grids(table, lon, lat, keep, report, ctx)
    _tick(progress, "fields", 0.6)
    _check_fields(table, keep, each)
    _tick(progress, "compare", 0.75)
    plan = _household_changes(engine, table, lon, lat, grid_idx, keep, report, ctx)
    report.findings.sort(key=lambda x: (x.row is None, x.row or 0))
    _tick(progress, "done", 1.0)
    return plan


def _coordinates(table: pd.DataFrame, keep: np.ndarray, report: ImportReport, ctx: dict,
                 crs: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes/latitudes in WGS84 (NaN where absent or unusable), findings per row."""
    f = report.findings
    rows = table["row"].to_numpy()
    lon = pd.to_numeric(table["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(table["lat"], errors="coerce").to_numpy(dtype=float)
    for name, values in (("lon", lon), ("lat", lat)):
        bad = keep & np.isnan(values) & table[name].ne("").to_numpy()
        for i in np.flatnonzero(bad):
            f.append(Finding("value_malformed", "skip" if not table["grid_code"].iloc[i] else
                             "default", row=int(rows[i]), field=name,
                             value=str(table[name].iloc[i])[:60]))
    usable = np.isfinite(lon) & np.isfinite(lat)
    degrees = usable & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    swapped = degrees & (lon >= LAT_RANGE[0]) & (lon <= LAT_RANGE[1]) & (lat >= LON_RANGE[0]) \
        & (lat <= LON_RANGE[1])
    for i in np.flatnonzero(keep & swapped):
        f.append(Finding("lonlat_swapped", "repair", row=int(rows[i]), field="lon",
                         value=f"{table['lon'].iloc[i]}, {table['lat'].iloc[i]}"))
    lon, lat = np.where(swapped, lat, lon), np.where(swapped, lon, lat)
    metres = usable & ~degrees
    if metres.any():
        district = ctx["district"]
        choice = infer_crs(lon[metres], lat[metres],
                           near_lon=district.centroid.x if district is not None else None)
        target = crs or choice.crs
        if target is None:
            f.append(Finding("crs_ask", "ask", field="lon", detail={"candidates": "EPSG:4549 …"}))
        else:
            from pyproj import Transformer

            x, y = (lat[metres], lon[metres]) if choice.swapped and not crs else \
                (lon[metres], lat[metres])
            tx = Transformer.from_crs(target, "EPSG:4326", always_xy=True)
            lon[metres], lat[metres] = tx.transform(x, y)
            report.crs = target
            f.append(Finding("crs_inferred", "convert", field="lon", value=target,
                             detail={"how": choice.how if not crs else "given"}))
    if report.datum != "wgs84":
        lon, lat = convert_datum(lon, lat, report.datum)
    if report.crs is None:
        report.crs = "EPSG:4326"
    return lon, lat


def _assign_grids(table: pd.DataFrame, lon: np.ndarray, lat: np.ndarray, keep: np.ndarray,
                  report: ImportReport, ctx: dict) -> np.ndarray:
    """Index into the stored grids of each row's grid (-1 for rows that are skipped)."""
    f = report.findings
    rows = table["row"].to_numpy()
    grids = ctx["grids"]
    geoms = grids["geom"].to_numpy()
    has_point = np.isfinite(lon) & np.isfinite(lat)
    where = np.full(len(table), -1, dtype=np.int64)
    where[has_point] = locate(lon[has_point], lat[has_point], geoms)
    by_code = {c: i for i, c in enumerate(grids["code"])}
    named = table["grid_code"].map(by_code).fillna(-1).astype(np.int64).to_numpy()
    unknown_code = keep & table["grid_code"].ne("").to_numpy() & (named < 0)
    for i in np.flatnonzero(unknown_code):
        f.append(Finding("grid_code_unknown", "keep", row=int(rows[i]), field="grid_code",
                         value=table["grid_code"].iloc[i]))
    district = ctx["district"]
    away = np.zeros(len(table), dtype=bool)
    if district is not None and has_point.any():
        metric = metric_crs_for(np.array([district]))
        away[has_point] = outside_xy(lon[has_point], lat[has_point], district, metric)
    # outside the district: bad coordinates, unless the file names the grid
    for i in np.flatnonzero(keep & away):
        action = "default" if named[i] >= 0 else "skip"
        f.append(Finding("outside_district", action, row=int(rows[i]), field="lon",
                         value=f"{lon[i]:.6f}, {lat[i]:.6f}"))
    between = keep & has_point & ~away & (where < 0)
    for i in np.flatnonzero(between):
        f.append(Finding("outside_grids", "default" if named[i] >= 0 else "skip", row=int(rows[i]),
                         field="lon", value=f"{lon[i]:.6f}, {lat[i]:.6f}"))
    mismatch = keep & (where >= 0) & (named >= 0) & (where != named) & ~away
    codes = grids["code"].to_numpy()
    for i in np.flatnonzero(mismatch):
        f.append(Finding("grid_mismatch", "keep", row=int(rows[i]), field="grid_code",
                         value=table["grid_code"].iloc[i], detail={"grid": codes[where[i]]}))
    no_point = keep & ~has_point
    for i in np.flatnonzero(no_point & (named >= 0)):
        f.append(Finding("location_from_grid", "default", row=int(rows[i]), field="lon"))
    for i in np.flatnonzero(no_point & (named < 0) & table["lon"].eq("").to_numpy()):
        f.append(Finding("location_missing", "skip", row=int(rows[i]), field="lon"))
    where = np.where(away | (where < 0), named, where)
    keep &= where >= 0
    # rows placed by their grid code alone sit at a point on the grid
    fallback = keep & (~has_point | away)
    if fallback.any():
        pts = shapely.point_on_surface(geoms[where[fallback]])
        lon[fallback], lat[fallback] = shapely.get_x(pts), shapely.get_y(pts)
    return np.where(keep, where, -1)


def _check_fields(table: pd.DataFrame, keep: np.ndarray, each) -> None:
    """Optional fields: malformed ones are kept, cleared or defaulted, and reported."""
    phone = table["phone"]
    bad_phone = keep & phone.ne("").to_numpy() & ~phone.str.fullmatch(_PHONE).to_numpy()
    too_long = bad_phone & (phone.str.len() > _LIMITS["phone"]).to_numpy()
    each(bad_phone & ~too_long, "phone_malformed", "keep", "phone")
    each(too_long, "value_too_long", "default", "phone", {"limit": _LIMITS["phone"]})
    table.loc[too_long, "phone"] = ""
    ident = table["id_number"].str.upper()
    table["id_number"] = ident
    bad_id = keep & ident.ne("").to_numpy() & ~_id_number_valid(ident)
    long_id = bad_id & (ident.str.len() > _LIMITS["id_number"]).to_numpy()
    each(bad_id & ~long_id, "id_number_malformed", "keep", "id_number")
    each(long_id, "value_too_long", "default", "id_number", {"limit": _LIMITS["id_number"]})
    table.loc[long_id, "id_number"] = ""
    dup_id = keep & ident.ne("").to_numpy() & ~bad_id & ident.duplicated(keep="first").to_numpy()
    each(dup_id, "duplicate_person", "keep", "id_number")
    for name in ("head_name", "address"):
        long = keep & (table[name].str.len() > _LIMITS[name]).to_numpy()
        each(long, "value_too_long", "repair", name, {"limit": _LIMITS[name]})
        table[name] = table[name].str.slice(0, _LIMITS[name])
    size = pd.to_numeric(table["size"], errors="coerce")
    bad_size = keep & table["size"].ne("").to_numpy() & ~(
        size.between(1, MAX_SIZE) & (size == size.round())).to_numpy()
    each(bad_size, "size_malformed", "default", "size", {"max": MAX_SIZE})
    table["size"] = size.where(size.between(1, MAX_SIZE) & (size == size.round()), 1).astype(int)
    raw_tags = table["tags"].to_numpy()
    if any(raw_tags):
        lookup = _tag_lookup()
        clean = []
        for i, raw in enumerate(raw_tags):
            if not raw:
                clean.append("")
                continue
            parts = [p for p in _TAG_SPLIT.split(raw) if p]
            known = [lookup.get(p, lookup.get(p.lower())) for p in parts]
            unknown = [p for p, k in zip(parts, known, strict=True) if k is None]
            if unknown and keep[i]:
                each(np.eye(1, len(table), i, dtype=bool)[0], "tag_unknown", "default", "tags",
                     {"tags": "、".join(unknown)})
            clean.append(",".join(dict.fromkeys(k for k in known if k)))
        table["tags"] = clean


def _household_changes(engine: Engine, table: pd.DataFrame, lon: np.ndarray, lat: np.ndarray,
                       grid_idx: np.ndarray, keep: np.ndarray, report: ImportReport,
                       ctx: dict) -> Plan:
    grids = ctx["grids"]
    rows = table[keep].copy()
    gi = grid_idx[keep]
    rows["grid_id"] = grids["id"].to_numpy()[gi]
    rows["town_id"] = grids["town_id"].to_numpy()[gi]
    rows["lon"], rows["lat"] = np.round(lon[keep], 7), np.round(lat[keep], 7)
    stored = _stored_households(engine).set_index("code")
    is_old = rows["code"].isin(stored.index).to_numpy()
    cols = ["grid_id", "town_id", "head_name", "phone", "id_number", "address", "size", "tags",
            "lon", "lat"]
    old_rows = rows[is_old]
    changed = np.zeros(len(old_rows), dtype=bool)
    moved_mask = np.zeros(len(old_rows), dtype=bool)
    if len(old_rows):
        before = stored.loc[old_rows["code"], cols].reset_index(drop=True)
        after = old_rows[cols].reset_index(drop=True)
        for col in cols:
            if col in ("lon", "lat"):
                changed |= ~np.isclose(before[col].to_numpy(dtype=float),
                                       after[col].to_numpy(dtype=float), atol=1e-7)
            else:
                changed |= (before[col].astype(str) != after[col].astype(str)).to_numpy()
        moved_mask = (before["grid_id"] != after["grid_id"]).to_numpy()
    updates = old_rows[changed].copy()
    updates["id"] = stored.loc[updates["code"], "id"].to_numpy()
    code_of = dict(zip(grids["id"], grids["code"], strict=True))
    moved = old_rows[moved_mask]
    report.moved = [{"household": c, "from": code_of.get(int(stored.loc[c, "grid_id"])),
                     "to": code_of.get(int(g))} for c, g in zip(moved["code"], moved["grid_id"],
                                                                 strict=True)]
    inserts = rows[~is_old].reset_index(drop=True)
    report.counts = {"new": len(inserts), "updated": int(changed.sum()),
                     "unchanged": int((~changed).sum()), "skipped": int((~keep).sum()),
                     "moved": len(report.moved)}
    problems = report.problem_rows()
    with_point = np.isfinite(lon) & np.isfinite(lat)
    preview = gpd.GeoDataFrame(
        {"row": table["row"][with_point].to_numpy(), "code": table["code"][with_point].to_numpy(),
         "problem": table["row"][with_point].isin(problems).to_numpy(),
         "skipped": ~keep[with_point]},
        geometry=shapely.points(lon[with_point], lat[with_point]), crs="EPSG:4326")
    return Plan(report=report, stamp=ctx["version"], inserts=inserts,
                updates=updates.reset_index(drop=True), preview=preview)


# --- apply -------------------------------------------------------------------------------------

BATCH = 20_000


def apply(engine: Engine, plan: Plan, *, progress: Progress | None = None) -> dict[str, int]:
    """Write a previewed plan in one transaction; return the counts written.

    Raises
    ------
    StalePlan
        The store changed since the preview (or the report is blocked).
    """
    if plan.report.blocked:
        raise StalePlan("blocked")
    with engine.begin() as conn:
        if data_version_of(conn) != plan.stamp:
            raise StalePlan("stale")
        if plan.report.kind == "grids":
            _apply_grids(conn, plan, progress)
        else:
            _apply_households(conn, plan, progress)
        _stamp(conn)
    _tick(progress, "applied", 1.0)
    return dict(plan.report.counts)


def _stamp(conn) -> None:
    """Record when data were last imported (part of the data version, so caches refresh)."""
    now = dt.datetime.now().isoformat(timespec="microseconds")
    done = conn.execute(update(DatasetInfo).where(DatasetInfo.key == "imported_at")
                        .values(value=now)).rowcount
    if not done:
        conn.execute(insert(DatasetInfo).values(key="imported_at", value=now))


def _apply_grids(conn, plan: Plan, progress: Progress | None) -> None:
    town_ids: dict[str, int] = {}
    for town in plan.new_towns:
        town_ids[town["key"]] = conn.execute(
            insert(Town).values(code=town["code"], name=town["name"], kind=town["kind"],
                                geom=town["geom"]).returning(Town.id)).scalar_one()

    def town_id(ref):
        return town_ids[ref[1]] if isinstance(ref, tuple) else int(ref)

    area_ids: dict[tuple, int] = {}
    for area in plan.new_areas:
        area_ids[area["key"]] = conn.execute(
            insert(Area).values(town_id=town_id(area["town"]), name=area["name"], head_name="")
            .returning(Area.id)).scalar_one()

    def area_id(ref):
        return area_ids[ref[1]] if isinstance(ref, tuple) else int(ref)

    _tick(progress, "grids", 0.3)
    if plan.inserts is not None and len(plan.inserts):
        conn.execute(insert(Grid), [
            {"code": r.code, "name": r.name, "town_id": town_id(r.town), "area_id": area_id(r.area),
             "kind": r.kind, "version": 1, "geom": r.geom}
            for r in plan.inserts.itertuples(index=False)])
    if plan.updates is not None and len(plan.updates):
        conn.execute(
            update(Grid).where(Grid.id == bindparam("b_id")).values(
                name=bindparam("b_name"), kind=bindparam("b_kind"), town_id=bindparam("b_town"),
                area_id=bindparam("b_area"), geom=bindparam("b_geom", type_=Grid.geom.type),
                version=Grid.version + 1),
            [{"b_id": int(r.id), "b_name": r.name, "b_kind": r.kind, "b_town": town_id(r.town),
              "b_area": area_id(r.area), "b_geom": r.geom}
             for r in plan.updates.itertuples(index=False)])
    _tick(progress, "households", 0.7)
    if plan.moves is not None and len(plan.moves):
        codes = dict(conn.execute(select(Grid.code, Grid.id)).all())
        conn.execute(
            update(Household).where(Household.id == bindparam("b_id")).values(
                grid_id=bindparam("b_grid"), town_id=bindparam("b_town")),
            [{"b_id": int(r.id), "b_grid": codes[r.grid_code], "b_town": town_id(r.town)}
             for r in plan.moves.itertuples(index=False)])


_HOUSEHOLD_COLUMNS = ("code", "grid_id", "town_id", "head_name", "phone", "id_number", "address",
                      "size", "tags", "lon", "lat")


def _apply_households(conn, plan: Plan, progress: Progress | None) -> None:
    inserts = plan.inserts if plan.inserts is not None else pd.DataFrame()
    if len(inserts):
        cols = [inserts[c].tolist() for c in _HOUSEHOLD_COLUMNS]
        geoms = encode_geometries(conn, shapely.points(inserts["lon"].to_numpy(float),
                                                       inserts["lat"].to_numpy(float)))
        _tick(progress, "write", 0.2)
        insert_rows(conn, Household, (*_HOUSEHOLD_COLUMNS, "geom"),
                    list(zip(*cols, geoms, strict=True)))
    _tick(progress, "write", 0.8)
    if plan.updates is not None and len(plan.updates):
        stmt = update(Household).where(Household.id == bindparam("b_id")).values(
            **{c: bindparam(f"b_{c}") for c in _HOUSEHOLD_COLUMNS if c != "code"},
            geom=bindparam("b_geom", type_=Household.geom.type))
        params = []
        for r in plan.updates.itertuples(index=False):
            p = {f"b_{c}": getattr(r, c) for c in _HOUSEHOLD_COLUMNS if c != "code"}
            for c in ("b_grid_id", "b_town_id", "b_size"):
                p[c] = int(p[c])
            p["b_lon"], p["b_lat"] = float(p["b_lon"]), float(p["b_lat"])
            p["b_id"] = int(r.id)
            p["b_geom"] = shapely.Point(p["b_lon"], p["b_lat"])
            params.append(p)
        conn.execute(stmt, params)
