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
import json
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.crs import gk_crs, shift_to_gcj02
from geo.style import METRICS, care_category
from minqing.i18n import t
from minqing.links import case_url
from minqing.vocab import HouseholdTag

__all__ = [
    "GridCards",
    "GridGeometry",
    "case_rows",
    "grid_cards",
    "grid_geometry",
    "grid_tooltip_html",
    "group_rows",
    "hexbin_households",
    "household_rows",
    "html_text",
    "to_json",
    "town_labels",
]

PRECISION = 5  # decimal degrees kept: ~1 m, far below a pixel at district and town zoom


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
    return [[round(p.y, PRECISION), round(p.x, PRECISION), html_text(name)]
            for p, name in zip(points, towns["name"], strict=True)]


# --- tooltips and popups --------------------------------------------------------------------


def html_text(value: object) -> str:
    """User-entered text for a tooltip or popup: HTML-escaped, and braces as HTML entities.

    folium (through branca) compiles every element's rendered output as a Jinja template once
    more, so ``{{ ... }}`` in a name or a case title would be evaluated on the server (template
    injection, up to running commands). As entities the braces never reach Jinja and the browser
    still shows them as typed.
    """
    text = "" if value is None or value is pd.NA else str(value)
    return html.escape(text).replace("{", "&#123;").replace("}", "&#125;")


_esc = html_text


def to_json(value: object) -> str:
    """Compact JSON that is also safe inside an HTML ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/")


@dataclass(frozen=True)
class GridCards:
    """What a grid's tooltip shows, compactly: the browser assembles the HTML on hover.

    Sending 1,200 finished HTML tooltips would be well over half the district payload; sending
    labels once and one short row per grid is a fifth of it. Every string in ``labels`` and
    ``rows`` is already HTML-escaped (names are data entry; labels come from the catalogue).

    ``rows[i]`` is ``[name, code, town, kind_label, leader, *counts]`` with ``counts`` in
    :data:`METRICS` order (``None`` where there is no value).
    """

    labels: dict[str, object]
    rows: list[list]

    @cached_property
    def json(self) -> str:
        """The cards as the grid layer's script embeds them, serialised once: the base layers
        are cached, and this was re-encoded on every map run (py-spy, bench/load.py)."""
        return to_json({"labels": self.labels, "rows": self.rows})


def grid_cards(grids: pd.DataFrame, counters: pd.DataFrame, lang: str) -> GridCards:
    """Tooltip data per grid, in the order of ``grids`` (the geometry's order)."""
    values = counters.reindex(grids["grid_id"])[list(METRICS)].to_numpy(dtype=float)
    rows = []
    for grid, counts in zip(grids.itertuples(index=False), values, strict=True):
        rows.append([_esc(grid.name), _esc(grid.code), _esc(grid.town_name),
                     t(f"grid_kind.{grid.kind}", lang), _esc(grid.leader) or "—",
                     *[None if np.isnan(v) else int(v) for v in counts]])
    labels = {"leader": t("map.leader", lang), "hint": t("map.click_to_open", lang),
              "metrics": [t(f"map.metric.{key}", lang) for key in METRICS]}
    return GridCards(labels, rows)


def grid_tooltip_html(cards: GridCards, i: int) -> str:
    """The HTML the browser builds for grid ``i`` (the Python twin of the map's JS, for tests
    and for pages that want a grid card outside the map)."""
    name, code, town, kind, leader, *counts = cards.rows[i]
    cells = "".join(f"<tr><td>{label}</td><td>{'—' if v is None else v}</td></tr>"
                    for label, v in zip(cards.labels["metrics"], counts, strict=True))
    return (f"<div class='mq-tip'><b>{name}</b><div class='mq-sub'>{code} · {town} · {kind}</div>"
            f"<div>{cards.labels['leader']}：{leader}</div><table>{cells}</table>"
            f"<div class='mq-hint'>{cards.labels['hint']}</div></div>")


# --- point layers ---------------------------------------------------------------------------


def hexbin_households(frame: pd.DataFrame, *, size_m: float = 600.0) -> pd.DataFrame:
    """Aggregate household points into pointy-top hexagons of circumradius ``size_m`` metres.

    For district and town views: ~135,000 points become a few thousand cells (count and
    households needing care per cell), computed in a local Gauss-Krüger CRS so cells are
    equal-area. Each cell is placed at the mean position of its own households, not at the
    hexagon's centre: the mark stays where people live and never spills over the scope's outline
    (a hexagon on the border would).

    Returns
    -------
    DataFrame
        ``lat``, ``lon`` (mean of the cell's households, EPSG:4326), ``households``,
        ``vulnerable`` (households with any special tag).
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
                          "x": x, "y": y,
                          "vulnerable": frame["tags"].fillna("").ne("").astype(int)})
    agg = cells.groupby(["q", "r"]).agg(x=("x", "mean"), y=("y", "mean"),
                                        households=("vulnerable", "size"),
                                        vulnerable=("vulnerable", "sum")).reset_index()
    lon, lat = back.transform(agg["x"].to_numpy(), agg["y"].to_numpy())
    return pd.DataFrame({"lat": np.round(lat, PRECISION), "lon": np.round(lon, PRECISION),
                         "households": agg["households"], "vulnerable": agg["vulnerable"]})


def _tag_labels(tags: str, lang: str) -> str:
    known = {tag.value for tag in HouseholdTag}
    return "、".join(t(f"tag.{tag}", lang) if tag in known else _esc(tag)
                    for tag in str(tags or "").split(",") if tag)


def household_rows(frame: pd.DataFrame, lang: str | None = None) -> list[list]:
    """``[lat, lon, care]`` per household (``care``: :func:`geo.style.care_category`), plus a
    tooltip when ``lang`` is given.

    No name ever: the district map doubles as the wall display, and street views send thousands
    of points. Without ``lang`` (district map) the points are drawn on a canvas and are not
    interactive. With ``lang`` (a single grid: a few hundred households) each row gets
    ``tooltip_html`` (household code, size, special-household tags; escaped).
    """
    lat = np.round(frame["lat"].to_numpy(dtype=float), PRECISION)
    lon = np.round(frame["lon"].to_numpy(dtype=float), PRECISION)
    care = [care_category(tags) for tags in frame["tags"].fillna("").astype(str)]
    rows = [[float(a), float(b), c] for a, b, c in zip(lat, lon, care, strict=True)]
    if lang is None:
        return rows
    for row, h in zip(rows, frame.itertuples(index=False), strict=True):
        tags = _tag_labels(h.tags, lang)
        row.append(f"<b>{_esc(h.code)}</b> · {t('map.household_size', lang)}：{int(h.size)}"
                   + (f"<br>{tags}" if tags else ""))
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


def case_rows(cases: pd.DataFrame, grids: gpd.GeoDataFrame, lang: str, *,
              link_base: str = "/") -> list[list]:
    """``[lat, lon, track, overdue, popup_html]`` per open case (the map colours the track
    from the palette); titles escaped. The popup's link starts with ``link_base`` (see
    :func:`minqing.links.mount_base`)."""
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
                 f"<a href='{_esc(case_url(c.case_id, base=link_base))}' target='_top'>"
                 f"{t('map.open_case', lang)}</a></div>")
        rows.append([round(float(lat[i]), PRECISION), round(float(lon[i]), PRECISION),
                     str(c.track), int(bool(c.overdue)), popup])
    return rows
