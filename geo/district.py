"""The district map (一张图) assembled from frames: what the page caches and what it draws.

Split in the two halves the page caches separately: :func:`base_layers` (geometry, tooltips,
labels: once per scope, data version and language) and the cheap per-choice parts
(:func:`metric_overlay`, :func:`overlay_rows` + :func:`point_layer`). ``bench/map_overview.py`` times exactly these
functions, so the benchmark measures the page's own build.
"""

from __future__ import annotations

from dataclasses import dataclass

import folium
import geopandas as gpd
import pandas as pd

from geo.basemap import Basemap
from geo.layers import (
    METRICS,
    Classes,
    GridCards,
    GridGeometry,
    case_rows,
    classify,
    grid_cards,
    grid_geometry,
    group_rows,
    hexbin_households,
    household_rows,
    town_labels,
)
from geo.mapview import (
    TRACK_LEGEND,
    base_map,
    hex_rows,
    legend_html,
    metric_style,
    point_layer,
    shift_rows,
)
from minqing.i18n import t

__all__ = ["OVERLAYS", "POINT_LIMIT", "BaseLayers", "base_layers", "build_map", "metric_overlay",
           "overlay_rows", "point_layer"]

POINT_LIMIT = 15_000
"""Most households sent as individual points; above it (the whole district) they are binned."""
HEX_SIZE_M = 600.0
OVERLAYS = ("households", "groups", "cases")


@dataclass(frozen=True)
class BaseLayers:
    """Everything the base map needs, built once per scope / data version / language."""

    geometry: GridGeometry
    cards: GridCards
    labels: list[list]


def base_layers(grids: gpd.GeoDataFrame, towns: gpd.GeoDataFrame, counters: pd.DataFrame,
                lang: str, *, gcj02: bool = False) -> BaseLayers:
    """Simplified geometry, escaped tooltip data and town labels for the base map."""
    geometry = grid_geometry(grids, towns, gcj02=gcj02)
    return BaseLayers(geometry, grid_cards(grids, counters, lang),
                      shift_rows(town_labels(towns), gcj02))


def build_map(base: BaseLayers, basemap: Basemap) -> folium.Map:
    return base_map(base.geometry, base.cards, base.labels, basemap=basemap)


def metric_overlay(grid_ids: tuple[int, ...], counters: pd.DataFrame, metric: str, lang: str,
                   *, overlays: tuple[str, ...] = ()) -> tuple[Classes, folium.FeatureGroup]:
    """Classes of ``metric`` per grid (in the geometry's order) and the feature group that
    colours the grids and shows the legend (with a key for each switched-on overlay)."""
    values = counters.reindex(list(grid_ids))[metric].to_numpy(dtype=float)
    classes = classify(values, METRICS[metric])
    extra: list[tuple[str, str, bool]] = []
    if "households" in overlays:
        extra += [("#37474f", t("map.legend.household", lang), False),
                  ("#f9a825", t("map.legend.care", lang), False)]
    if "groups" in overlays:
        extra.append(("#00796b", t("map.layer.groups", lang), False))
    if "cases" in overlays:
        extra += [(colour, t(f"track.{track}", lang), False) for track, colour in TRACK_LEGEND]
        extra.append(("#d50000", t("map.overdue_ring", lang), True))
    legend = legend_html(t(f"map.metric.{metric}", lang), classes, t("map.no_record", lang), extra)
    return classes, metric_style(classes, legend)


def overlay_rows(kind: str, frame: pd.DataFrame, lang: str, *,
                 grids: gpd.GeoDataFrame | None = None, gcj02: bool = False
                 ) -> tuple[str, list[list]]:
    """The rows one overlay sends to the browser, and the layer kind that draws them.

    ``kind`` is ``households`` (points when at most :data:`POINT_LIMIT`, as in a town or a grid;
    hexagon counts otherwise, as for the district), ``groups`` or ``cases`` (``grids`` places
    cases that have no household). The rows are plain lists, cheap to cache.
    """
    if kind == "households" and len(frame) <= POINT_LIMIT:
        layer, rows = "household", household_rows(frame)  # positions only: no names
    elif kind == "households":
        cells = hexbin_households(frame, size_m=HEX_SIZE_M)
        layer, rows = "hex", hex_rows(cells, size_m=HEX_SIZE_M)
    elif kind == "groups":
        layer, rows = "group", group_rows(frame, lang)
    elif kind == "cases":
        layer, rows = "case", case_rows(frame, grids, lang)
    else:
        raise ValueError(f"unknown overlay {kind!r}")
    return layer, shift_rows(rows, gcj02)
