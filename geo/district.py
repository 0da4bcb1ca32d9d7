"""The district map (一张图): one builder for the page, the benchmark and the tests.

:func:`district_map` turns a :class:`MapSource` (what to read), a :class:`MapChoice` (metric and
overlays) and the current :class:`~geo.viewport.Viewport` into the folium base map and the
feature groups st_folium swaps into it. The page hands it a source whose readers are cached per
data version; ``bench/map_overview.py`` and the tests hand it the plain :class:`MapSource`, so
the benchmark times exactly what users get.

Households: a count per hexagonal cell (dots sized by the metric classifier, in one neutral
colour over the grid colours) until the user zooms in to street level, or until fewer than
:data:`VIEW_POINT_LIMIT` are in view; then the households in the view, one point each, coloured
by special-household category (:mod:`geo.viewport` decides the area asked for).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine

from geo.basemap import Basemap
from geo.layers import (
    GridCards,
    GridGeometry,
    case_rows,
    grid_cards,
    grid_geometry,
    group_rows,
    hexbin_households,
    household_rows,
    town_labels,
)
from geo.mapview import base_map, legend_html, legend_section, metric_style, point_layer, shift_rows
from geo.style import CARE_ORDER, CELL_RADII, METRICS, PALETTE, TRACK_COLOURS, Classes, classify
from geo.viewport import STREET_ZOOM, Viewport, load_box
from minqing import kpi, mapdata
from minqing.i18n import t
from minqing.scope import Scope

__all__ = [
    "OVERLAYS",
    "STREET_POINT_LIMIT",
    "VIEW_POINT_LIMIT",
    "BaseLayers",
    "DistrictMap",
    "MapChoice",
    "MapSource",
    "Overlay",
    "base_layers",
    "district_map",
    "grids_in_view",
]

OVERLAYS = ("households", "groups", "cases")
VIEW_POINT_LIMIT = 5_000
"""Below street zoom, households are drawn one by one when at most this many are in view."""
STREET_POINT_LIMIT = 10_000
"""The most households sent for one view at street zoom (~230 KB); more stay aggregated."""


@dataclass(frozen=True)
class MapChoice:
    """What the user chose to see: the grid metric and the overlays switched on."""

    metric: str = "households"
    overlays: tuple[str, ...] = ()


@dataclass(frozen=True)
class BaseLayers:
    """Everything the base map needs, built once per scope / data version / language."""

    geometry: GridGeometry
    cards: GridCards
    labels: list[list]
    controls: dict[str, str]
    points: tuple[np.ndarray, np.ndarray] = field(compare=False)
    """Longitude and latitude of a point inside each grid (display datum), for "in view"."""


def base_layers(grids: gpd.GeoDataFrame, towns: gpd.GeoDataFrame, counters: pd.DataFrame,
                lang: str, *, gcj02: bool = False) -> BaseLayers:
    """Simplified geometry, escaped tooltip data (also what the search box matches), town
    labels and the labels of the map's controls."""
    geometry = grid_geometry(grids, towns, gcj02=gcj02)
    inner = shapely.point_on_surface(np.asarray(grids.geometry.values))
    rows = shift_rows([[p.y, p.x] for p in inner], gcj02)
    points = (np.array([r[1] for r in rows], dtype=float), np.array([r[0] for r in rows], dtype=float))
    controls = {key: t(f"map.control.{key}", lang)
                for key in ("home", "fullscreen", "exit_fullscreen", "search", "not_found")}
    return BaseLayers(geometry, grid_cards(grids, counters, lang),
                      shift_rows(town_labels(towns), gcj02), controls, points)


@dataclass(frozen=True)
class Overlay:
    """One overlay as sent: the layer kind that draws it, its rows, its legend section and, for
    households in view, the WGS84 ``[south, west, north, east]`` they were read for."""

    kind: str
    rows: list[list]
    legend: str
    box: list[float] | None = None


def _cell_size_m(bounds: tuple[float, float, float, float]) -> float:
    """Hexagon size: about 1/50 of the scope's width, between 150 m (a town) and 600 m."""
    width_m = (bounds[2] - bounds[0]) * 111_320 * np.cos(np.radians((bounds[1] + bounds[3]) / 2))
    return float(np.clip(round(width_m / 50, -1), 150.0, 600.0))


def _dot(colour: str, size: float = 11, extra: str = "") -> str:
    return f"background:{colour};width:{size:g}px;height:{size:g}px;{extra}"


def cell_overlay(homes: pd.DataFrame, size_m: float, lang: str, *, gcj02: bool = False) -> Overlay:
    """Households of the whole scope counted per hexagonal cell: ``[lat, lon, class, share]``
    rows, ``class`` from the households metric's classifier, ``share`` of households needing
    care (the inner orange dot's area)."""
    cells = hexbin_households(homes, size_m=size_m)
    counts = cells["households"].to_numpy(dtype=float)
    classes = classify(counts, METRICS["households"])
    share = np.where(counts > 0, cells["vulnerable"].to_numpy(dtype=float) / np.maximum(counts, 1), 0)
    rows = [[float(la), float(lo), int(c), round(float(s), 2)] for la, lo, c, s in
            zip(cells["lat"], cells["lon"], classes.index, share, strict=True)]
    entries = [(_dot(PALETTE["cell"], 2 * CELL_RADII[i], "opacity:.6"), label)
               for i, label in enumerate(classes.labels)]
    entries.append((_dot(PALETTE["cell_care"], 8), t("map.legend.cell_care", lang)))
    legend = legend_section(t("map.legend.cells", lang, size=int(size_m)), entries,
                            t("map.legend.cells_note", lang))
    return Overlay("cell", shift_rows(rows, gcj02), legend)


def household_legend(lang: str) -> str:
    entries = [(_dot(PALETTE["household"], 8), t("map.legend.household", lang))]
    entries += [(_dot(colour), t(f"tag.{tag}", lang)) for tag, colour in CARE_ORDER]
    return legend_section(t("map.legend.households_each", lang), entries)


def group_overlay(groups: pd.DataFrame, lang: str, *, gcj02: bool = False) -> Overlay:
    legend = legend_section(t("map.layer.groups", lang),
                            [(_dot(PALETTE["group"]), t("map.service_group", lang))])
    return Overlay("group", shift_rows(group_rows(groups, lang), gcj02), legend)


def case_overlay(cases: pd.DataFrame, grids: gpd.GeoDataFrame, lang: str, *,
                 gcj02: bool = False, link_base: str = "/") -> Overlay:
    entries = [(_dot(colour), t(f"track.{track}", lang)) for track, colour in TRACK_COLOURS.items()]
    entries.append((f"border:2px solid {PALETTE['overdue_ring']};width:11px;height:11px",
                    t("map.overdue_ring", lang)))
    legend = legend_section(t("map.layer.cases", lang), entries)
    rows = case_rows(cases, grids, lang, link_base=link_base)
    return Overlay("case", shift_rows(rows, gcj02), legend)


class MapSource:
    """What the district map reads for one scope, straight from the store (frames and base
    layers read once per instance: one instance serves one build).

    The page subclasses it to cache each reader per data version (``app_pages/map.py``); the
    benchmark and the tests use it as it is.
    """

    def __init__(self, engine: Engine, *, scope: Scope, today: dt.date, lang: str,
                 gcj02: bool = False, link_base: str = "/") -> None:
        self.engine, self.scope, self.today, self.lang, self.gcj02 = engine, scope, today, lang, gcj02
        self.link_base = link_base  # where popups' links start (minqing.links.mount_base)
        self._memo: dict[str, object] = {}

    def frames(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, pd.DataFrame]:
        """Grids, towns and the per-grid counters of the scope."""
        if "frames" not in self._memo:
            self._memo["frames"] = (
                mapdata.grid_frame(self.engine, scope=self.scope),
                mapdata.town_frame(self.engine, scope=self.scope),
                kpi.grid_counters(self.engine, scope=self.scope, today=self.today))
        return self._memo["frames"]

    def base(self) -> BaseLayers:
        if "base" not in self._memo:
            self._memo["base"] = base_layers(*self.frames(), self.lang, gcj02=self.gcj02)
        return self._memo["base"]

    def overlay(self, kind: str) -> Overlay:
        """A scope-wide overlay: ``cells`` (households counted per hexagon), ``groups`` or
        ``cases``."""
        if kind == "cells":
            return cell_overlay(self.households(), _cell_size_m(self.base().geometry.bounds),
                                self.lang, gcj02=self.gcj02)
        if kind == "groups":
            return group_overlay(mapdata.service_groups(self.engine, scope=self.scope), self.lang,
                                 gcj02=self.gcj02)
        if kind == "cases":
            cases = mapdata.open_case_points(self.engine, scope=self.scope, today=self.today)
            return case_overlay(cases, self.frames()[0], self.lang, gcj02=self.gcj02,
                                link_base=self.link_base)
        raise ValueError(f"unknown overlay {kind!r}")

    def households(self) -> pd.DataFrame:
        """Every household of the scope (position and tags), for the cells."""
        return mapdata.household_points(self.engine, scope=self.scope)

    def households_in_box(self, box: tuple[float, float, float, float], limit: int
                          ) -> pd.DataFrame:
        """Households inside ``box``, at most ``limit + 1`` (see
        :func:`minqing.mapdata.households_in_box`)."""
        return mapdata.households_in_box(self.engine, scope=self.scope, box=box, limit=limit)


def household_overlay(source: MapSource, view: Viewport | None) -> Overlay:
    """Households for the current view: one point each when zoomed in to street level (at most
    :data:`STREET_POINT_LIMIT`) or when at most :data:`VIEW_POINT_LIMIT` are in view; the
    scope's cells otherwise (and before the map has reported its view)."""
    if view is not None:
        limit = STREET_POINT_LIMIT if view.zoom >= STREET_ZOOM else VIEW_POINT_LIMIT
        box = load_box(view, gcj02=source.gcj02)
        homes = source.households_in_box(box, limit)
        if len(homes) <= limit:
            rows = shift_rows(household_rows(homes), source.gcj02)
            minx, miny, maxx, maxy = box
            return Overlay("household", rows, household_legend(source.lang),
                           [miny, minx, maxy, maxx])
    return source.overlay("cells")


def grids_in_view(base: BaseLayers, view: Viewport | None) -> tuple[int, ...] | None:
    """The grids whose inner point is in view, or None when that is every grid of the scope
    (or the map has not reported its view yet): the side panel then shows the scope."""
    if view is None:
        return None
    lon, lat = base.points
    inside = view.covers(lon, lat)
    if inside.all():
        return None
    return tuple(g for g, keep in zip(base.geometry.grid_ids, inside, strict=True) if keep)


@dataclass
class DistrictMap:
    """The built map: the base map for st_folium, the feature groups to swap in, and what the
    household overlay and the side panel are showing."""

    map: folium.Map
    layers: list[folium.FeatureGroup]
    classes: Classes
    households: Overlay | None
    in_view: tuple[int, ...] | None


def metric_layer(base: BaseLayers, counters: pd.DataFrame, metric: str, lang: str,
                 sections: list[str]) -> tuple[Classes, folium.FeatureGroup]:
    """Classes of ``metric`` per grid (in the geometry's order) and the feature group that
    colours the grids and shows the legend (the overlays' ``sections`` under it)."""
    values = counters.reindex(list(base.geometry.grid_ids))[metric].to_numpy(dtype=float)
    classes = classify(values, METRICS[metric])
    legend = legend_html(t(f"map.metric.{metric}", lang), classes, t("map.no_record", lang),
                         sections)
    return classes, metric_style(classes, legend)


def district_map(source: MapSource, choice: MapChoice, basemap: Basemap, *,
                 view: Viewport | None = None,
                 start: tuple[float, float, float] | None = None) -> DistrictMap:
    """Build the district map as the page shows it.

    Parameters
    ----------
    source : where to read (the page's caching subclass, or :class:`MapSource`).
    choice : the metric and overlays.
    basemap : from :func:`geo.basemap.resolve_basemap`; ``source.gcj02`` must agree with it.
    view : what the map last reported (None on the first run): decides the households sent and
        the grids counted "in view".
    start : ``(lat, lon, zoom)`` the map opens at (a shared link); the whole scope when None.
        Keep it fixed while the page lives: a different start is a different map, which
        st_folium mounts afresh.
    """
    if source.gcj02 != basemap.gcj02:
        raise ValueError("the source and the basemap disagree on GCJ-02")
    base = source.base()
    counters = source.frames()[2]
    overlays: list[Overlay] = []
    households = None
    for kind in OVERLAYS:
        if kind not in choice.overlays:
            continue
        overlay = household_overlay(source, view) if kind == "households" else source.overlay(kind)
        households = overlay if kind == "households" else households
        overlays.append(overlay)
    classes, style = metric_layer(base, counters, choice.metric, source.lang,
                                  [o.legend for o in overlays])
    # opening on the whole scope, little depends on the view until it moves (the same for every
    # choice of overlays: a different base map would be mounted afresh)
    m = base_map(base.geometry, base.cards, base.labels, basemap=basemap, controls=base.controls,
                 view=start, quiet_opening=start is None)
    layers = [style] + [point_layer(o.kind, o.rows, box=o.box) for o in overlays]
    return DistrictMap(m, layers, classes, households, grids_in_view(base, view))
