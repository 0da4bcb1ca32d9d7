"""Household lists in: read a CSV or .xlsx file, check every row, plan inserts and updates.

CSV files may be UTF-8 (with or without BOM) or GBK/GB18030; row numbers are the lines a
spreadsheet shows (the header is line 1). Households are matched to the store by code (new ones
inserted, changed ones updated, nothing deleted) and placed in the grid their location falls in.
Previewing and applying follow :mod:`minqing.importer`.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, bindparam, func, insert, literal, select, update

from geo.importing import (
    LAT_RANGE,
    LON_RANGE,
    Finding,
    UnreadableFile,
    convert_datum,
    decode_text,
    infer_crs,
    metric_crs_for,
    outside_xy,
)
from minqing.bulk import encode_geometries, insert_rows
from minqing.importer import (
    ImportReport,
    Plan,
    Progress,
    locate,
    map_columns,
    norm_header,
    store_context,
    stored_households,
    text_cells,
    tick,
    unreadable_plan,
)
from minqing.models import GridLayer, Household, LayerGrid, LayerHousehold
from minqing.scope import Scope
from minqing.vocab import HouseholdTag

__all__ = ["HOUSEHOLD_FIELDS", "preview_households", "read_table"]

TABLE_SUFFIXES = (".csv", ".txt", ".xlsx")
# field -> accepted column headers (compared case-insensitively, spaces and brackets ignored)
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
REQUIRED = ("code", "head_name")
# column headers that say the coordinates come from a web map
_DATUM_HINTS = (("bd09", ("bd09", "bd", "baidu", "百度")),
                ("gcj02", ("gcj02", "gcj", "高德", "gaode", "amap", "腾讯")))
_DATUM_WORDS = (*(w for _, words in _DATUM_HINTS for w in words), "wgs84", "坐标")
_LIMITS = {"code": 32, "head_name": 32, "phone": 20, "id_number": 18, "address": 128}
_PHONE = r"1\d{10}|0\d{2,3}-?\d{7,8}"
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = "10X98765432"
_TAG_SPLIT = re.compile(r"[,，、;；/\s]+")
MAX_SIZE = 30
PREVIEW_SAMPLE = 5_000  # rows without problems the preview map may draw
_FOLDED = ("code", "phone", "id_number", "size", "lon", "lat", "grid_code")  # full-width digits



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
    heads = " ".join(norm_header(columns.get(k, "")) for k in ("lon", "lat"))
    for datum, hints in _DATUM_HINTS:
        if any(h in heads for h in hints):
            return datum
    return None


def _id_number_valid(values: pd.Series) -> np.ndarray:
    """18-character resident ID numbers with a correct GB 11643 check character."""
    ok = values.str.fullmatch(r"\d{17}[\dXx]").to_numpy()
    out = np.zeros(len(values), dtype=bool)
    if ok.any():
        body = "".join(values[ok].str.slice(0, 17)).encode("ascii")
        digits = np.frombuffer(body, dtype=np.uint8).reshape(-1, 17).astype(np.int64) - 48
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


def preview_households(engine: Engine, path: str | Path, *, scope: Scope | None = None,
                       datum: str | None = None, crs: str | None = None,
                       progress: Progress | None = None) -> Plan:
    """Read and check a household list against the store's grids; nothing is written.

    Parameters
    ----------
    engine : Engine
    path : str or Path
        CSV (UTF-8 ± BOM, GBK/GB18030) or .xlsx with a header row.
    scope : Scope, optional
        The importer's jurisdiction: households that fall in grids outside it are left out and
        reported.
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
    ctx = store_context(engine, scope)
    report = ImportReport(kind="households", source=path.name)
    tick(progress, "read", 0.0)
    try:
        raw, encoding = read_table(path)
    except UnreadableFile as exc:
        return unreadable_plan(report, exc, ctx["version"])
    report.rows, report.encoding = len(raw), encoding
    if encoding:
        report.findings.append(Finding("encoding_detected", "note", detail={"encoding": encoding}))
    columns = map_columns(list(raw.columns), HOUSEHOLD_FIELDS, ignore=_DATUM_WORDS)
    missing = [f for f in REQUIRED if f not in columns]
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
        table[name] = text_cells(raw[columns[name]], fold=fold, excel=excel and fold).set_axis(
            table.index) if name in columns else ""
    tick(progress, "check", 0.1)
    keep = np.ones(len(table), dtype=bool)
    f = report.findings
    rows = table["row"].to_numpy()

    def each(mask, code, action, name, detail=None):
        values = table[name].to_numpy() if name in table else None
        for i in np.flatnonzero(mask):
            f.append(Finding(code, action, row=int(rows[i]), field=name,
                             value="" if values is None else str(values[i])[:60],
                             detail=detail or {}))

    for name in REQUIRED:
        empty = keep & table[name].eq("").to_numpy()
        each(empty, "value_empty", "skip", name)
        keep &= ~empty
    codes = table["code"]
    kept_codes = codes.where(keep)  # a row already left out does not make a later one a duplicate
    dup = keep & kept_codes.duplicated(keep="first").to_numpy()
    if dup.any():
        first = keep & ~kept_codes.duplicated(keep="first").to_numpy()
        firsts = dict(zip(codes[first], rows[first], strict=True))
        for i in np.flatnonzero(dup):
            f.append(Finding("duplicate_code", "skip", row=int(rows[i]), field="code",
                             value=codes.iloc[i], detail={"first_row": int(firsts[codes.iloc[i]])}))
        keep &= ~dup
    long_code = keep & (codes.str.len() > _LIMITS["code"]).to_numpy()
    each(long_code, "value_too_long", "skip", "code", {"limit": _LIMITS["code"]})
    keep &= ~long_code
    tick(progress, "coordinates", 0.25)
    lon, lat = _coordinates(table, keep, report, ctx, crs)
    tick(progress, "grids", 0.45)
    grid_idx = _assign_grids(table, lon, lat, keep, report, ctx)
    tick(progress, "fields", 0.6)
    _check_fields(table, keep, each)
    tick(progress, "compare", 0.75)
    plan = _household_changes(engine, table, lon, lat, grid_idx, keep, report, ctx)
    report.findings.sort(key=lambda x: (x.row is None, x.row or 0))
    tick(progress, "done", 1.0)
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
    swapped = usable & (lon >= LAT_RANGE[0]) & (lon <= LAT_RANGE[1]) & (lat >= LON_RANGE[0]) \
        & (lat <= LON_RANGE[1])
    for i in np.flatnonzero(keep & swapped):
        f.append(Finding("lonlat_swapped", "repair", row=int(rows[i]), field="lon",
                         value=f"{table['lon'].iloc[i]}, {table['lat'].iloc[i]}"))
    lon, lat = np.where(swapped, lat, lon), np.where(swapped, lon, lat)
    metres = usable & ~((np.abs(lon) <= 180) & (np.abs(lat) <= 90))
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
    if ctx["grids_in"] is not None:
        ids = grids["id"].to_numpy()
        foreign = keep & ~np.isin(ids[np.maximum(where, 0)], list(ctx["grids_in"]))
        for i in np.flatnonzero(foreign):
            f.append(Finding("outside_jurisdiction", "skip", row=int(rows[i]), field="grid_code",
                             value=str(codes[where[i]])))
        keep &= ~foreign
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
    stored = stored_households(engine).set_index("code")
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
    # the map draws a few thousand points at most: keep every problem row and a spread of others
    flagged = table["row"].isin(problems).to_numpy() | ~keep
    others = np.flatnonzero(with_point & ~flagged)
    sample = np.zeros(len(table), dtype=bool)
    sample[others[:: max(1, len(others) // PREVIEW_SAMPLE)]] = True
    with_point &= flagged | sample
    preview = gpd.GeoDataFrame(
        {"row": table["row"][with_point].to_numpy(), "code": table["code"][with_point].to_numpy(),
         "problem": table["row"][with_point].isin(problems).to_numpy(),
         "skipped": ~keep[with_point]},
        geometry=shapely.points(lon[with_point], lat[with_point]), crs="EPSG:4326")
    return Plan(report=report, stamp=ctx["version"], writer=_write, inserts=inserts,
                updates=updates.reset_index(drop=True), preview=preview)


# --- apply ---

_HOUSEHOLD_COLUMNS = ("code", "grid_id", "town_id", "head_name", "phone", "id_number", "address",
                      "size", "tags", "lon", "lat")


def _write(conn, plan: Plan, actor: str, progress: Progress | None) -> None:
    """Insert new households, update changed ones, and keep the current grid layer version's
    assignment in step (new households and moved ones), all in apply's transaction."""
    del actor  # households are not versioned; the layer records who made each version
    inserts = plan.inserts if plan.inserts is not None else pd.DataFrame()
    if len(inserts):
        cols = [inserts[c].tolist() for c in _HOUSEHOLD_COLUMNS]
        geoms = encode_geometries(conn, shapely.points(inserts["lon"].to_numpy(float),
                                                       inserts["lat"].to_numpy(float)))
        tick(progress, "write", 0.2)
        insert_rows(conn, Household, (*_HOUSEHOLD_COLUMNS, "geom"),
                    list(zip(*cols, geoms, strict=True)))
    tick(progress, "write", 0.7)
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
    tick(progress, "write", 0.85)
    _keep_layer_in_step(conn, plan)


def _keep_layer_in_step(conn, plan: Plan) -> None:
    """Record new households (and moved ones) in the current layer version, and its counts."""
    layer = conn.scalar(select(GridLayer.id).where(GridLayer.is_current.is_(True)))
    if layer is None:
        return
    if plan.updates is not None and len(plan.updates):
        conn.execute(update(LayerHousehold).where(
            LayerHousehold.layer_id == layer,
            LayerHousehold.household_id == bindparam("b_id")).values(grid_id=bindparam("b_grid")),
            [{"b_id": int(i), "b_grid": int(g)} for i, g in zip(
                plan.updates["id"], plan.updates["grid_id"], strict=True)])
    if plan.inserts is not None and len(plan.inserts):  # in SQL: no round trip per household
        known = select(LayerHousehold.household_id).where(LayerHousehold.layer_id == layer)
        conn.execute(insert(LayerHousehold).from_select(
            ["layer_id", "household_id", "grid_id"],
            select(literal(layer), Household.id, Household.grid_id)
            .where(Household.id.not_in(known))))
    counts = dict(conn.execute(select(LayerHousehold.grid_id, func.count())
                               .where(LayerHousehold.layer_id == layer)
                               .group_by(LayerHousehold.grid_id)).all())
    grids = conn.scalars(select(LayerGrid.grid_id).where(LayerGrid.layer_id == layer)).all()
    conn.execute(update(LayerGrid).where(LayerGrid.layer_id == layer,
                                         LayerGrid.grid_id == bindparam("b_grid"))
                 .values(households=bindparam("b_n")),
                 [{"b_grid": g, "b_n": counts.get(g, 0)} for g in grids])
    conn.execute(update(GridLayer).where(GridLayer.id == layer)
                 .values(households=sum(counts.values())))
