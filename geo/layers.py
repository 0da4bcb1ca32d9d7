"""Map layers as plain data: grid polygons coloured by a metric, towns, households, service
groups and open cases, ready for :mod:`geo.mapview` to draw.

Why this shape: the browser cannot take 150,000 household features (a naive folium GeoJson layer
took 30 s to build and 45 s to appear). So grid polygons are simplified as a *coverage* (shared
borders stay shared) and rounded to ~1 m; households are binned into hexagons for a district view
and sent as compact rows only for a small view; the geometry is built once per data version and
the metric only changes a list of class numbers. Every user-entered string is HTML-escaped here,
before it can reach a tooltip or popup.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.crs import gk_crs, shift_to_gcj02
from minqing.i18n import t
from minqing.links import case_url
from minqing.vocab import HouseholdTag, Track

__all__ = [
    "METRICS",
    "Classes",
    "GridCards",
    "GridGeometry",
    "Metric",
    "case_rows",
    "classify",
    "grid_cards",
    "grid_geometry",
    "grid_tooltip_html",
    "group_rows",
    "hexbin_households",
    "household_rows",
    "town_labels",
]

PRECISION = 5  # decimal degrees kept: ~1 m, far below a pixel at district and town zoom
NO_DATA = "#cfd4da"


@dataclass(frozen=True)
class Metric:
    """How one grid metric is coloured.

    ``zero_colour`` gives 0 its own class: for open cases, overdue and risks a grid with none is
    "quiet" and should recede; for diary entries a grid with none is the thing to see.
    ``missing_colour`` is for grids without any value (no diary entry ever: "days since" is
    undefined, and worse than any number of days). ``low_stands_out``: the grids to look at are
    those with the *lowest* values (too few diary entries), not the highest.
    """

    key: str
    palette: tuple[str, ...]
    zero_colour: str | None = "#f1f3f5"
    missing_colour: str = NO_DATA
    low_stands_out: bool = False


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("households", ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")),
        Metric("open_cases", ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")),
        Metric("overdue_cases", ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")),
        Metric("risks_90d", ("#f1eef6", "#d7b5d8", "#df65b0", "#dd1c77", "#980043")),
        Metric("days_since_diary", ("#ffffd4", "#fed98e", "#fe9929", "#d95f0e", "#993404"),
               zero_colour=None, missing_colour="#4a1a04"),
        Metric("diary_30d", ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"),
               zero_colour="#fcbba1", low_stands_out=True),
    )
}


@dataclass(frozen=True)
class Classes:
    """A classification: class ``i`` covers ``(uppers[i-1], uppers[i]]``; -1 is "no value"."""

    index: np.ndarray
    uppers: tuple[float, ...]
    colours: tuple[str, ...]
    labels: tuple[str, ...]
    missing_colour: str
    counts: tuple[int, ...]


def _quantile_uppers(values: np.ndarray, k: int) -> list[float]:
    """Upper bounds of up to ``k`` quantile classes of integer counts, duplicates merged."""
    if values.size == 0:
        return []
    qs = np.quantile(values, np.linspace(0, 1, k + 1)[1:], method="higher")
    return sorted({float(np.ceil(q)) for q in qs})


def _range_label(low: float, high: float) -> str:
    low_i, high_i = int(low), int(high)
    return f"{low_i}" if low_i == high_i else f"{low_i}–{high_i}"


def classify(values, metric: Metric, k: int = 5) -> Classes:
    """Put integer-valued grid metrics into at most ``k`` quantile classes with a fixed palette.

    Quantiles suit counts that are skewed (a few grids hold most overdue cases); on integers
    they can coincide, so equal bounds merge and a metric with few distinct values gets fewer
    classes rather than empty ones. Zero is its own class when the metric says so, so that the
    "nothing here" grids never share a colour with the lightest hot spot.

    Parameters
    ----------
    values : array_like
        One value per grid; NaN means "no value" (class -1).
    metric : Metric
        Palette and the meaning of zero and of a missing value.
    k : int
        The most classes to make (the palette has 5 colours).

    Returns
    -------
    Classes

    Examples
    --------
    >>> c = classify([0, 0, 1, 2, 3, 10], METRICS["open_cases"])
    >>> c.labels[0], int(c.index[-1]) == len(c.uppers) - 1
    ('0', True)
    """
    v = np.asarray(values, dtype=float)
    valid = ~np.isnan(v)
    index = np.full(v.shape, -1, dtype=int)
    uppers: list[float] = []
    lows: list[float] = []
    colours: list[str] = []
    positive = v[valid]
    if metric.zero_colour is not None:
        if (positive <= 0).any():
            uppers.append(0.0)
            lows.append(0.0)
            colours.append(metric.zero_colour)
        positive = positive[positive > 0]
    rest = _quantile_uppers(positive, k - len(uppers))
    palette = metric.palette[len(metric.palette) - len(rest):] if rest else ()
    prev = uppers[-1] if uppers else (float(positive.min()) - 1 if positive.size else 0.0)
    for upper, colour in zip(rest, palette, strict=True):
        lows.append(prev + 1)
        uppers.append(upper)
        colours.append(colour)
        prev = upper
    if uppers:
        index[valid] = np.searchsorted(np.asarray(uppers), v[valid], side="left")
        index[valid] = np.minimum(index[valid], len(uppers) - 1)
    counts = tuple(int((index == i).sum()) for i in range(len(uppers)))
    labels = tuple(_range_label(lo, hi) for lo, hi in zip(lows, uppers, strict=True))
    return Classes(index, tuple(uppers), tuple(colours), labels, metric.missing_colour, counts)


# --- geometry -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridGeometry:
    """Simplified grid and town polygons in EPSG:4326, as compact GeoJSON text.

    ``grid_ids`` gives the order of features (each carries ``{"g": grid_id}``); per-grid data
    (tooltips, classes) are lists in the same order, so changing the metric never touches this.
    """

    grid_ids: tuple[int, ...]
    grids_geojson: str
    towns_geojson: str
    bounds: tuple[float, float, float, float]


def _round(geoms, ndigits: int = PRECISION):
    return shapely.transform(geoms, lambda c: np.round(c, ndigits))


def _simplify(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Simplify polygons as a coverage, so shared borders stay shared (no slivers, no gaps).

    Real grid layers are often not a perfectly noded coverage (vertices of neighbours differ
    by a hair); GEOS' coverage simplifier copes with that in practice, so its result is used
    whenever every output polygon is valid and non-empty, and each polygon is simplified on its
    own (topology preserved) otherwise.
    """
    if tolerance <= 0 or geoms.size == 0:
        return geoms
    try:
        simple = np.asarray(shapely.coverage_simplify(geoms, tolerance))
        if shapely.is_valid(simple).all() and not shapely.is_empty(simple).any():
            return simple
    except shapely.errors.GEOSException:
        pass
    return shapely.simplify(geoms, tolerance, preserve_topology=True)


def _feature_collection(geoms: np.ndarray, props: list[str]) -> str:
    parts = [
        f'{{"type":"Feature","properties":{p},"geometry":{g}}}'
        for p, g in zip(props, shapely.to_geojson(geoms), strict=True)
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"


def grid_geometry(
    grids: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    *,
    tolerance_m: float = 15.0,
    gcj02: bool = False,
) -> GridGeometry:
    """Simplify grid and town polygons in metres (each set as a coverage), emit GeoJSON text.

    Parameters
    ----------
    grids : GeoDataFrame
        ``grid_id``, ``town_id`` and polygon geometry (EPSG:4326).
    towns : GeoDataFrame
        ``town_id``, ``name`` and polygon geometry (EPSG:4326).
    tolerance_m : float
        Simplification tolerance in metres (15 m is under a pixel at town zoom).
    gcj02 : bool
        Shift the result to GCJ-02 for a Gaode basemap (display only; data stay WGS84).
    """
    if grids.crs is not None and towns.crs is not None and grids.crs != towns.crs:
        raise ValueError(f"grids ({grids.crs}) and towns ({towns.crs}) CRS differ")
    if grids.empty:
        empty = '{"type":"FeatureCollection","features":[]}'
        return GridGeometry((), empty, empty, (0.0, 0.0, 0.0, 0.0))
    local = gk_crs(float(grids.union_all().centroid.x))
    simple = _simplify(np.asarray(grids.to_crs(local).geometry.values), tolerance_m)
    simple_gs = gpd.GeoSeries(simple, crs=local).to_crs("EPSG:4326")
    town_simple = _simplify(np.asarray(towns.to_crs(local).geometry.values), tolerance_m)
    town_geoms = gpd.GeoSeries(town_simple, crs=local).to_crs("EPSG:4326").values
    grid_geoms = np.asarray(simple_gs.values)
    town_arr = np.asarray(town_geoms, dtype=object)
    if gcj02:
        grid_geoms, town_arr = shift_to_gcj02(grid_geoms), shift_to_gcj02(town_arr)
    grid_props = [f'{{"g":{int(g)}}}' for g in grids["grid_id"]]
    town_props = [f'{{"t":{int(tid)}}}' for tid in towns["town_id"]]
    return GridGeometry(
        tuple(int(g) for g in grids["grid_id"]),
        _feature_collection(_round(grid_geoms), grid_props),
        _feature_collection(_round(town_arr), town_props),
        tuple(float(b) for b in shapely.total_bounds(grid_geoms)),
    )


def town_labels(towns: gpd.GeoDataFrame) -> list[list]:
    """``[lat, lon, name]`` per town at a point inside it (escaped; names are data)."""
    points = shapely.point_on_surface(np.asarray(towns.geometry.values))
    return [[round(p.y, PRECISION), round(p.x, PRECISION), html.escape(str(name))]
            for p, name in zip(points, towns["name"], strict=True)]


# --- tooltips and popups --------------------------------------------------------------------


def _esc(value: object) -> str:
    return html.escape("" if value is None or value is pd.NA else str(value))


@dataclass(frozen=True)
class GridCards:
    """What a grid's tooltip shows, compactly: the browser assembles the HTML on hover.

    Sending 1,200 finished HTML tooltips would be well over half the district payload; sending
    labels once and one short row per grid is a fifth of it. Every string in ``labels`` and
    ``rows`` is already HTML-escaped (names are data entry; labels come from the catalogue).

    ``rows[i]`` is ``[name, town, kind_label, leader, *counts]`` with ``counts`` in
    :data:`METRICS` order (``None`` where there is no value).
    """

    labels: dict[str, object]
    rows: list[list]


def grid_cards(grids: pd.DataFrame, counters: pd.DataFrame, lang: str) -> GridCards:
    """Tooltip data per grid, in the order of ``grids`` (the geometry's order)."""
    values = counters.reindex(grids["grid_id"])[list(METRICS)].to_numpy(dtype=float)
    rows = []
    for grid, counts in zip(grids.itertuples(index=False), values, strict=True):
        rows.append([_esc(grid.name), _esc(grid.town_name), t(f"grid_kind.{grid.kind}", lang),
                     _esc(grid.leader) or "—",
                     *[None if np.isnan(v) else int(v) for v in counts]])
    labels = {"leader": t("map.leader", lang), "hint": t("map.click_to_open", lang),
              "metrics": [t(f"map.metric.{key}", lang) for key in METRICS]}
    return GridCards(labels, rows)


def grid_tooltip_html(cards: GridCards, i: int) -> str:
    """The HTML the browser builds for grid ``i`` (the Python twin of the map's JS, for tests
    and for pages that want a grid card outside the map)."""
    name, town, kind, leader, *counts = cards.rows[i]
    cells = "".join(f"<tr><td>{label}</td><td>{'—' if v is None else v}</td></tr>"
                    for label, v in zip(cards.labels["metrics"], counts, strict=True))
    return (f"<div class='mq-tip'><b>{name}</b><div class='mq-sub'>{town} · {kind}</div>"
            f"<div>{cards.labels['leader']}：{leader}</div><table>{cells}</table>"
            f"<div class='mq-hint'>{cards.labels['hint']}</div></div>")


# --- point layers ---------------------------------------------------------------------------


def hexbin_households(frame: pd.DataFrame, *, size_m: float = 600.0) -> pd.DataFrame:
    """Aggregate household points into pointy-top hexagons of circumradius ``size_m`` metres.

    For the district view: ~135,000 points become a few thousand cells (count and vulnerable
    households per cell), computed in a local Gauss-Krüger CRS so cells are equal-area.

    Returns
    -------
    DataFrame
        ``lat``, ``lon`` (cell centre, EPSG:4326), ``households``, ``vulnerable``.
    """
    if frame.empty:
        return pd.DataFrame(columns=["lat", "lon", "households", "vulnerable"])
    local = gk_crs(float(frame["lon"].mean()))
    fwd = Transformer.from_crs("EPSG:4326", local, always_xy=True)
    back = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    x, y = fwd.transform(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    q = (np.sqrt(3) / 3 * x - y / 3) / size_m
    r = (2 / 3 * y) / size_m
    cube = np.column_stack([q, -q - r, r])
    rounded = np.round(cube)
    diff = np.abs(rounded - cube)
    fix_q = (diff[:, 0] > diff[:, 1]) & (diff[:, 0] > diff[:, 2])
    fix_r = ~fix_q & (diff[:, 1] <= diff[:, 2])
    rounded[fix_q, 0] = -rounded[fix_q, 1] - rounded[fix_q, 2]
    rounded[fix_r, 2] = -rounded[fix_r, 0] - rounded[fix_r, 1]
    cells = pd.DataFrame({"q": rounded[:, 0].astype(int), "r": rounded[:, 2].astype(int),
                          "vulnerable": frame["tags"].fillna("").ne("").astype(int)})
    agg = cells.groupby(["q", "r"]).agg(households=("vulnerable", "size"),
                                        vulnerable=("vulnerable", "sum")).reset_index()
    cx = size_m * np.sqrt(3) * (agg["q"] + agg["r"] / 2)
    cy = size_m * 1.5 * agg["r"]
    lon, lat = back.transform(cx.to_numpy(), cy.to_numpy())
    return pd.DataFrame({"lat": np.round(lat, PRECISION), "lon": np.round(lon, PRECISION),
                         "households": agg["households"], "vulnerable": agg["vulnerable"]})


def _tag_labels(tags: str, lang: str) -> str:
    known = {tag.value for tag in HouseholdTag}
    return "、".join(t(f"tag.{tag}", lang) if tag in known else _esc(tag)
                    for tag in str(tags or "").split(",") if tag)


def household_rows(frame: pd.DataFrame, lang: str | None = None) -> list[list]:
    """``[lat, lon, needs_care]`` per household, plus a tooltip when ``lang`` is given.

    Without ``lang`` (district and town views) nothing personal is sent: the map doubles as the
    wall display, and 10,000 names would be most of a town view's payload; such points are drawn
    on a canvas and are not interactive. With ``lang`` (a single grid: a few hundred households)
    each row gets ``tooltip_html`` (head name as the data layer gave it, code, size, care tags;
    all escaped) and the points are hoverable.
    """
    lat = np.round(frame["lat"].to_numpy(dtype=float), PRECISION)
    lon = np.round(frame["lon"].to_numpy(dtype=float), PRECISION)
    tags = frame["tags"].fillna("").astype(str)
    rows = [[float(a), float(b), int(c)] for a, b, c in zip(lat, lon, tags.ne(""), strict=True)]
    if lang is None:
        return rows
    for row, h in zip(rows, frame.itertuples(index=False), strict=True):
        care = _tag_labels(h.tags, lang)
        row.append(f"<b>{_esc(h.head_name)}</b> {t('map.household_of', lang)} · {_esc(h.code)}"
                   f"<br>{t('map.household_size', lang)}：{int(h.size)}"
                   + (f"<br>{care}" if care else ""))
    return rows


def group_rows(groups: pd.DataFrame, lang: str) -> list[list]:
    """``[lat, lon, popup_html, tooltip_html]`` per service group: grid, leader and every
    member (escaped; central households are residents, so a household's name can appear)."""
    rows = []
    for g in groups.itertuples(index=False):
        members = "".join(f"<tr><td>{t(f'role.{role}', lang)}</td><td>{_esc(name)}</td></tr>"
                          for role, name in g.members)
        popup = (f"<div class='mq-tip'><b>{_esc(g.grid_name)}</b>"
                 f"<div class='mq-sub'>{t('map.service_group', lang)} · "
                 f"{t('map.leader', lang)}：{_esc(g.leader)}</div><table>{members}</table></div>")
        tip = f"{_esc(g.grid_name)} · {t('map.service_group', lang)}"
        rows.append([round(float(g.lat), PRECISION), round(float(g.lon), PRECISION), popup, tip])
    return rows


TRACK_COLOURS = {Track.IMMEDIATE.value: "#2e7d32", Track.PROMISED.value: "#1565c0",
                 Track.LIAISON.value: "#7b1fa2", Track.SUPERVISED.value: "#ef6c00"}


def _fallback_points(cases: pd.DataFrame, grids: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Cases without a household sit inside their grid, spread a little so they do not stack."""
    inner = shapely.point_on_surface(np.asarray(grids.geometry.values))
    lookup = dict(zip(grids["grid_id"], inner, strict=True))
    lat = cases["lat"].to_numpy(dtype=float, na_value=np.nan).copy()
    lon = cases["lon"].to_numpy(dtype=float, na_value=np.nan).copy()
    for i, (gid, cid) in enumerate(zip(cases["grid_id"], cases["case_id"], strict=True)):
        if np.isnan(lat[i]) and gid in lookup:
            angle = (int(cid) * 2.399963) % (2 * np.pi)  # golden angle: even spread
            radius = 0.0008 * (1 + int(cid) % 3) / 3
            lat[i] = lookup[gid].y + radius * np.sin(angle)
            lon[i] = lookup[gid].x + radius * np.cos(angle)
    return lat, lon


def case_rows(cases: pd.DataFrame, grids: gpd.GeoDataFrame, lang: str) -> list[list]:
    """``[lat, lon, colour, overdue, popup_html]`` per open case; titles escaped."""
    if cases.empty:
        return []
    lat, lon = _fallback_points(cases, grids)
    rows = []
    for i, c in enumerate(cases.itertuples(index=False)):
        if np.isnan(lat[i]):
            continue
        late = (f"<div class='mq-late'>{t('map.overdue_by', lang, days=int(c.days_overdue))}</div>"
                if c.overdue else "")
        green = (f"<div class='mq-late'>{t('case.green_short', lang)}</div>"
                 if getattr(c, "green_channel", False) else "")
        popup = (f"<div class='mq-tip'>{green}<b>{_esc(c.title)}</b><div class='mq-sub'>{_esc(c.code)}"
                 f" · {t(f'track.{c.track}', lang)} · {t(f'status.{c.status}', lang)}</div>"
                 f"<div>{t('map.deadline', lang)}：{_esc(c.deadline)}</div>{late}"
                 f"<a href='{_esc(case_url(c.case_id, base='/'))}' target='_top'>"
                 f"{t('map.open_case', lang)}</a></div>")
        rows.append([round(float(lat[i]), PRECISION), round(float(lon[i]), PRECISION),
                     TRACK_COLOURS.get(c.track, "#455a64"), int(bool(c.overdue)), popup])
    return rows
