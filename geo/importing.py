"""Reading grid layers from GIS files and checking them, before anything is stored.

Pure functions: a file path in, a GeoDataFrame in WGS84 plus a list of :class:`Finding` out. The
store-facing half (what will be inserted, updated, moved) is :mod:`minqing.importer`.

What real files from Chinese GIS tools bring, and what is done about each:

- formats: GeoPackage, zipped Shapefile, GeoJSON, KML (all through pyogrio/GDAL);
- text encodings: a Shapefile's ``.cpg`` when present, else the ``.dbf`` bytes are tried as
  UTF-8 and then GB18030 (a superset of GBK) — GDAL would otherwise assume ISO-8859-1 and garble
  every Chinese name;
- coordinate systems: a declared CRS is used when the coordinates agree with it; a missing
  ``.prj`` (or a GeoJSON that claims WGS84 but holds metres) is inferred from the coordinate
  ranges — degrees, CGCS2000 3-degree Gauss-Krüger with the zone number in front of X (the zone
  is read from X), or without it (the zone is the one of the district, when known; otherwise the
  importer asks) — and swapped latitude/longitude are put back;
- GCJ-02 / BD-09 coordinates from web maps, when declared, are converted with the exact inverse;
- invalid geometries are repaired with ``make_valid``; overlaps and gaps between grids are
  measured in metres.

Row numbers: for a GIS file, ``row`` is the feature number counted from 1 in file order.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from geo.crs import bd09_to_wgs84, gcj02_to_wgs84, gk_crs, gk_zone_crs

__all__ = [
    "DATUMS",
    "CrsChoice",
    "Finding",
    "GridLayer",
    "UnreadableFile",
    "check_coverage",
    "convert_datum",
    "decode_text",
    "infer_crs",
    "outside",
    "outside_xy",
    "read_grid_layer",
    "repair_geometries",
    "to_wgs84",
]

DATUMS = ("wgs84", "gcj02", "bd09")
"""Datums coordinates may be given in: WGS84/CGCS2000, Gaode/Tencent GCJ-02, Baidu BD-09."""

GRID_SUFFIXES = (".gpkg", ".zip", ".geojson", ".json", ".kml", ".shp")
MAX_UNZIPPED = 512 * 1024 * 1024  # refuse zip files that expand past this (zip bombs)
OVERLAP_MIN_M2 = 1.0  # overlaps smaller than this are digitising noise
GAP_MIN_M2 = 100.0  # gaps smaller than this are slivers, not missing land
OUTSIDE_TOLERANCE_M = 500.0  # how far outside the district a grid or household may still lie

# mainland China, as used to tell degrees from metres and lon from lat
LON_RANGE = (73.0, 136.0)
LAT_RANGE = (3.0, 54.0)
GK_NORTHING = (0.0, 6_200_000.0)
GK_EASTING = (100_000.0, 900_000.0)


class UnreadableFile(ValueError):
    """The file cannot be read at all (unknown format, no layer, corrupt): nothing is imported."""

    def __init__(self, code: str, **detail: object) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Finding:
    """One thing noticed in an import file and what will happen about it.

    ``row`` is the row as the user sees it (spreadsheet line with the header as line 1, or the
    GIS feature number from 1); None for file-wide findings. ``action`` is one of ``skip`` (the
    row is not imported), ``repair``, ``convert``, ``default`` (a default value is used),
    ``keep`` (imported as given), ``ask`` (the import cannot go on until the user decides) and
    ``note`` (information only). ``detail`` holds the values the message is formatted with.
    """

    code: str
    action: str
    row: int | None = None
    field: str | None = None
    value: str = ""
    detail: dict = dataclasses.field(default_factory=dict)

    @property
    def severity(self) -> str:
        return {"ask": "blocker", "skip": "error", "note": "info"}.get(self.action, "warning")

    def as_dict(self) -> dict:
        out = asdict(self)
        out["severity"] = self.severity
        return out


# --- text encodings ----------------------------------------------------------------------------

_CODEPAGES = {"936": "gbk", "cp936": "gbk", "gbk": "gbk", "gb2312": "gbk", "gb18030": "gb18030",
              "utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8", "ansi 936": "gbk",
              "1252": "cp1252", "ascii": "utf-8", "us-ascii": "utf-8"}


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode ``data`` as UTF-8 (with or without BOM), else GB18030; return (text, encoding).

    GB18030 is a superset of GBK and GB2312, so every GBK file decodes; UTF-8 is tried first
    because valid UTF-8 Chinese text is practically never valid GBK of the same meaning.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise UnreadableFile("encoding_unknown", position=exc.start) from exc


def _dbf_encoding(dbf: Path) -> str:
    """UTF-8 or GB18030, judged from the .dbf record bytes (the header is binary)."""
    data = dbf.read_bytes()
    header_len = int.from_bytes(data[8:10], "little") if len(data) >= 10 else 0
    return "utf-8" if _is_utf8(data[header_len:]) else "gb18030"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- reading -----------------------------------------------------------------------------------


@dataclass
class GridLayer:
    """A grid layer as read: features in file order (``_row`` from 1), the declared CRS (None
    when the file declares none), the text encoding used and what was noticed while reading."""

    frame: gpd.GeoDataFrame
    declared_crs: CRS | None
    encoding: str | None
    driver: str
    findings: list[Finding] = field(default_factory=list)


def _extract_zip(path: Path, into: Path) -> Path:
    """Extract a zipped Shapefile's parts (flat, names only) and return the .shp to read."""
    with zipfile.ZipFile(path) as archive:
        members = [i for i in archive.infolist() if not i.is_dir()]
        if sum(i.file_size for i in members) > MAX_UNZIPPED:
            raise UnreadableFile("zip_too_large", limit_mb=MAX_UNZIPPED // 2**20)
        for info in members:
            name = Path(info.filename).name
            if not name or name.startswith("."):
                continue
            with archive.open(info) as src, open(into / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
    shps = sorted(into.glob("*.shp"), key=lambda p: p.name)
    if not shps:
        raise UnreadableFile("zip_no_shapefile")
    return shps[0]


def _shapefile_encoding(shp: Path, findings: list[Finding]) -> str:
    cpg = shp.with_suffix(".cpg")
    if cpg.exists():
        raw = cpg.read_text(encoding="ascii", errors="replace").strip()
        codec = _CODEPAGES.get(raw.lower())
        if codec:
            findings.append(Finding("encoding_cpg", "note", value=raw, detail={"encoding": codec}))
            return codec
        findings.append(Finding("encoding_cpg_unknown", "note", value=raw))
    dbf = shp.with_suffix(".dbf")
    codec = _dbf_encoding(dbf) if dbf.exists() else "utf-8"
    findings.append(Finding("encoding_detected", "note", detail={"encoding": codec}))
    return codec


def _pick_layer(path: Path, findings: list[Finding]) -> str | None:
    layers = pyogrio.list_layers(path)
    if len(layers) == 0:
        raise UnreadableFile("no_layer")
    polygonal = [str(name) for name, kind in layers if kind is None or "POLYGON" in str(kind).upper()]
    chosen = polygonal[0] if polygonal else str(layers[0][0])
    if len(layers) > 1:
        findings.append(Finding("several_layers", "note", value=chosen,
                                detail={"layers": ", ".join(str(n) for n, _ in layers)}))
    return chosen


def read_grid_layer(path: str | Path) -> GridLayer:
    """Read a grid layer from a GeoPackage, a zipped (or plain) Shapefile, GeoJSON or KML.

    Parameters
    ----------
    path : str or Path
        The file; the format is chosen by its suffix.

    Returns
    -------
    GridLayer
        Features in file order with a ``_row`` column (1-based), geometry as read (not yet
        transformed or repaired).

    Raises
    ------
    UnreadableFile
        Unknown suffix, no layer, an empty or corrupt file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in GRID_SUFFIXES:
        raise UnreadableFile("unknown_format", suffix=suffix or "-")
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="minqing-import-") as tmp:
        source, encoding, layer = path, None, None
        try:
            if suffix == ".zip":
                source = _extract_zip(path, Path(tmp))
            if source.suffix.lower() == ".shp":
                encoding = _shapefile_encoding(source, findings)
                if not source.with_suffix(".prj").exists():
                    findings.append(Finding("prj_missing", "note"))
            elif suffix == ".gpkg":
                layer = _pick_layer(source, findings)
            frame = pyogrio.read_dataframe(source, layer=layer, encoding=encoding,
                                           use_arrow=False)
            info_crs = frame.crs
            driver = pyogrio.read_info(source, layer=layer)["driver"]
        except UnreadableFile:
            raise
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                zipfile.BadZipFile, OSError) as exc:
            raise UnreadableFile("corrupt", reason=str(exc)[:200]) from exc
    if driver in ("GeoJSON", "KML", "LIBKML") and info_crs is not None:
        # RFC 7946 GeoJSON and KML are WGS84 by definition; GDAL says so even when the numbers
        # are metres, so treat it as "not declared" and let the coordinates decide
        info_crs = None
    frame = frame.rename(columns=str)
    frame.insert(0, "_row", np.arange(1, len(frame) + 1))
    if len(frame) == 0:
        raise UnreadableFile("empty")
    return GridLayer(frame=gpd.GeoDataFrame(frame, geometry="geometry", crs=None),
                     declared_crs=CRS.from_user_input(info_crs) if info_crs else None,
                     encoding=encoding or ("utf-8" if driver != "GPKG" else None),
                     driver=driver, findings=findings)


# --- coordinate systems ------------------------------------------------------------------------


@dataclass(frozen=True)
class CrsChoice:
    """What the coordinates are: ``crs`` (None when undecidable), whether x and y are swapped,
    ``how`` it was decided (``declared``, ``degrees``, ``gk_zone_prefix``, ``gk_district_zone``)
    and, when undecidable, the ``candidates`` to ask the user about."""

    crs: str | None
    swapped: bool = False
    how: str = "declared"
    candidates: tuple[str, ...] = ()


def _within(values: np.ndarray, bounds: tuple[float, float]) -> bool:
    return bool(len(values)) and bool(np.all((values >= bounds[0]) & (values <= bounds[1])))


def infer_crs(x: np.ndarray, y: np.ndarray, *, near_lon: float | None = None) -> CrsChoice:
    """Infer the CRS of coordinates from their ranges (mainland China only).

    Parameters
    ----------
    x, y : ndarray
        The coordinates as stored (first and second axis).
    near_lon : float, optional
        The district's longitude: picks the Gauss-Krüger zone when X carries no zone number.

    Returns
    -------
    CrsChoice
        ``crs`` is None (with candidates) when the ranges do not decide.

    Examples
    --------
    >>> infer_crs(np.array([40_500_123.0]), np.array([3_400_000.0])).crs
    'EPSG:4528'
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x[np.isfinite(x) & np.isfinite(y)], y[np.isfinite(x) & np.isfinite(y)]
    if _within(x, LON_RANGE) and _within(y, LAT_RANGE):
        return CrsChoice("EPSG:4490", how="degrees")
    if _within(y, LON_RANGE) and _within(x, LAT_RANGE):
        return CrsChoice("EPSG:4490", swapped=True, how="degrees")
    for a, b, swapped in ((x, y, False), (y, x, True)):
        if not _within(b, GK_NORTHING) or not len(a):
            continue
        zones = np.floor(a / 1_000_000.0)
        if np.all(zones == zones[0]) and 25 <= zones[0] <= 45 and _within(
                a - zones[0] * 1_000_000.0, GK_EASTING):
            return CrsChoice(gk_zone_crs(int(zones[0]), prefixed=True), swapped, "gk_zone_prefix")
        if _within(a, GK_EASTING):
            if near_lon is not None:
                return CrsChoice(gk_crs(near_lon), swapped, "gk_district_zone")
            return CrsChoice(None, swapped, "gk_zone_unknown",
                             tuple(gk_zone_crs(z, prefixed=False) for z in range(25, 46)))
    return CrsChoice(None, how="unknown", candidates=("EPSG:4490", "EPSG:4326"))


def _agrees(crs: CRS, x: np.ndarray, y: np.ndarray) -> bool:
    """Whether coordinates fit the declared CRS at all (degrees vs metres)."""
    if crs.is_geographic:
        return _within(x, (-180.0, 180.0)) and _within(y, (-90.0, 90.0))
    return not (_within(x, (-180.0, 180.0)) and _within(y, (-90.0, 90.0)))


def _swap_xy(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda c: c[:, ::-1])


def to_wgs84(frame: gpd.GeoDataFrame, declared: CRS | None, *, crs: str | None = None,
             near_lon: float | None = None) -> tuple[gpd.GeoDataFrame | None, CrsChoice,
                                                     list[Finding]]:
    """Put ``frame``'s geometry into EPSG:4326, deciding the source CRS as the module says.

    ``crs`` (a user's answer, e.g. ``EPSG:4549``) overrides everything. Returns the frame in
    EPSG:4326 (None when the CRS must be asked), the choice, and the findings.
    """
    geoms = shapely.force_2d(frame.geometry.to_numpy())
    coords = shapely.get_coordinates(geoms)
    x, y = coords[:, 0], coords[:, 1]
    findings: list[Finding] = []
    if crs:
        choice = CrsChoice(CRS.from_user_input(crs).to_string(), how="given")
    elif declared is not None and _agrees(declared, x, y):
        choice = CrsChoice(declared.to_string(), how="declared")
        if declared.is_geographic and _within(y, LON_RANGE) and _within(x, LAT_RANGE):
            choice = CrsChoice(choice.crs, swapped=True, how="declared")
    else:
        if declared is not None:
            findings.append(Finding("crs_contradicted", "note", value=declared.to_string()))
        choice = infer_crs(x, y, near_lon=near_lon)
    if choice.crs is None:
        findings.append(Finding("crs_ask", "ask", detail={"candidates": ", ".join(
            choice.candidates[:3]) + (" …" if len(choice.candidates) > 3 else "")}))
        return None, choice, findings
    if choice.how not in ("declared", "given"):
        findings.append(Finding("crs_inferred", "convert", value=choice.crs,
                                detail={"how": choice.how}))
    if choice.swapped:
        findings.append(Finding("axes_swapped", "repair"))
        geoms = _swap_xy(geoms)
    out = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=geoms, crs=choice.crs)
    return out.to_crs("EPSG:4326"), choice, findings


def convert_datum(lon: np.ndarray, lat: np.ndarray, datum: str) -> tuple[np.ndarray, np.ndarray]:
    """Web-map coordinates (``gcj02``, ``bd09``) to WGS84; ``wgs84`` is returned unchanged."""
    if datum == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if datum == "bd09":
        return bd09_to_wgs84(lon, lat)
    if datum != "wgs84":
        raise ValueError(f"unknown datum {datum!r}")
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def convert_geometry_datum(geoms: np.ndarray, datum: str) -> np.ndarray:
    if datum == "wgs84":
        return geoms
    return shapely.transform(geoms, lambda c: np.column_stack(convert_datum(c[:, 0], c[:, 1], datum)))


# --- geometry repair and coverage --------------------------------------------------------------


def _polygon_parts(geom) -> list:
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty] \
        if geom.geom_type != "Polygon" else [geom]


def repair_geometries(frame: gpd.GeoDataFrame, metric_crs: str) -> tuple[gpd.GeoDataFrame,
                                                                         list[Finding]]:
    """Make every grid one valid polygon; rows that cannot be are dropped and reported.

    Invalid shapes (self-intersections, bow-ties) go through ``make_valid``; when that, or the
    file itself, gives several parts, the largest part is kept and the dropped area reported
    (a grid is one polygon in the store).
    """
    findings: list[Finding] = []
    geoms = frame.geometry.to_numpy().copy()
    rows = frame["_row"].to_numpy()
    keep = np.ones(len(frame), dtype=bool)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(empty):
        findings.append(Finding("geometry_empty", "skip", row=int(rows[i]), field="geometry"))
        keep[i] = False
    invalid = ~empty & ~shapely.is_valid(geoms)
    reasons = shapely.is_valid_reason(geoms)
    for i in np.flatnonzero(invalid):
        geoms[i] = shapely.make_valid(geoms[i])
    to_m = gpd.GeoSeries(geoms, crs="EPSG:4326").to_crs(metric_crs)
    for i in np.flatnonzero(~empty):
        parts = _polygon_parts(geoms[i])
        if not parts:
            findings.append(Finding("geometry_not_polygon", "skip", row=int(rows[i]),
                                    field="geometry", value=geoms[i].geom_type))
            keep[i] = False
            continue
        if len(parts) > 1:
            largest = max(parts, key=lambda p: p.area)
            dropped = to_m.iloc[i].area - gpd.GeoSeries([largest], crs="EPSG:4326").to_crs(
                metric_crs).iloc[0].area
            geoms[i] = largest
            findings.append(Finding("geometry_parts", "repair", row=int(rows[i]), field="geometry",
                                    detail={"parts": len(parts), "dropped_m2": round(dropped)}))
        elif geoms[i].geom_type != "Polygon":
            geoms[i] = parts[0]
        if invalid[i]:
            findings.append(Finding("geometry_invalid", "repair", row=int(rows[i]),
                                    field="geometry", value=str(reasons[i])[:80]))
    out = frame.copy()
    out["geometry"] = geoms
    return out[keep].reset_index(drop=True), findings


def check_coverage(frame: gpd.GeoDataFrame, metric_crs: str, *, district=None,
                   codes: str = "code") -> list[Finding]:
    """Overlaps between grids and gaps among them (and against ``district`` when given).

    Overlaps are reported per pair of rows (first row named, the other in the detail), gaps as
    file-wide findings with their area and a point inside them.
    """
    findings: list[Finding] = []
    if frame.empty:
        return findings
    metric = frame.geometry.to_crs(metric_crs).to_numpy()
    tree = shapely.STRtree(metric)
    left, right = tree.query(metric, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    areas = shapely.area(shapely.intersection(metric[left], metric[right]))
    rows = frame["_row"].to_numpy()
    code_values = frame[codes].astype(str).to_numpy() if codes in frame else rows.astype(str)
    for i, j, area in zip(left, right, areas, strict=True):
        if area >= OVERLAP_MIN_M2:
            findings.append(Finding("overlap", "keep", row=int(rows[i]), field="geometry",
                                    value=code_values[i],
                                    detail={"other": code_values[j], "other_row": int(rows[j]),
                                            "m2": round(float(area))}))
    union = shapely.union_all(metric, grid_size=0.01)
    holes = [shapely.Polygon(ring) for part in shapely.get_parts(union)
             for ring in part.interiors]
    if district is not None:
        district_m = gpd.GeoSeries([district], crs="EPSG:4326").to_crs(metric_crs).iloc[0]
        holes += [p for p in shapely.get_parts(shapely.difference(district_m, union, grid_size=0.01))
                  if p.geom_type == "Polygon"]
    big = [h for h in holes if h.area >= GAP_MIN_M2]
    if big:
        points = gpd.GeoSeries([h.representative_point() for h in big],
                               crs=metric_crs).to_crs("EPSG:4326")
        for hole, point in sorted(zip(big, points, strict=True), key=lambda hp: -hp[0].area):
            findings.append(Finding("gap", "keep", field="geometry",
                                    detail={"m2": round(hole.area), "lon": round(point.x, 5),
                                            "lat": round(point.y, 5)}))
    return findings


def outside_xy(lon: np.ndarray, lat: np.ndarray, district, metric_crs: str) -> np.ndarray:
    """Which points lie further than :data:`OUTSIDE_TOLERANCE_M` outside ``district``.

    The district is buffered in metres once and taken back to degrees, so the points are tested
    where they are (no per-point reprojection).
    """
    zone = gpd.GeoSeries([district], crs="EPSG:4326").to_crs(metric_crs).buffer(
        OUTSIDE_TOLERANCE_M).to_crs("EPSG:4326").iloc[0]
    shapely.prepare(zone)
    return ~shapely.contains_xy(zone, np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


def outside(geoms: np.ndarray, district, metric_crs: str) -> np.ndarray:
    """Which geometries lie (by a point on them) further than the tolerance outside ``district``."""
    points = shapely.point_on_surface(geoms)
    return outside_xy(shapely.get_x(points), shapely.get_y(points), district, metric_crs)


def metric_crs_for(geoms: np.ndarray) -> str:
    """The Gauss-Krüger zone around the middle of ``geoms`` (EPSG:4326), for metres."""
    bounds = shapely.total_bounds(geoms)
    return gk_crs((bounds[0] + bounds[2]) / 2 if np.isfinite(bounds[0]) else 120.0)


def code_pattern(values: pd.Series) -> np.ndarray:
    """True where a grid code follows the 15-digit administrative pattern (12-digit village
    code + 3-digit grid number)."""
    return values.astype(str).str.fullmatch(r"\d{15}").to_numpy()

