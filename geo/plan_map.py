"""Folium maps for the planner: grids coloured by how far they are outside their bounds, the
households a plan moves, and the households of two grids for a hand edit.

One town at a time (at most a few hundred grids and points), so plain GeoJSON and circle markers
are enough. Every label is escaped (names and codes are data); every asset is served by the app
(:func:`geo.assets.use_local_assets`); overlays are shifted to GCJ-02 for a Gaode basemap only.
"""

from __future__ import annotations

import html

import folium
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from geo.assets import use_local_assets
from geo.basemap import Basemap, add_basemap
from geo.crs import shift_to_gcj02
from geo.mapview import shift_rows

__all__ = ["DEVIATION_COLOURS", "deviation_colour", "edit_map", "plan_map"]

# above the maximum: warm; below the minimum: cool; within: neutral (colour-blind safe pair)
DEVIATION_COLOURS = {"above": "#d6604d", "below": "#4393c3", "within": "#d9d9d9",
                     "moved": "#b2182b", "selected": "#1b7837", "target": "#762a83"}


def deviation_colour(deviation: int) -> str:
    if deviation > 0:
        return DEVIATION_COLOURS["above"]
    if deviation < 0:
        return DEVIATION_COLOURS["below"]
    return DEVIATION_COLOURS["within"]


def _map(bounds: tuple[float, float, float, float], basemap: Basemap) -> folium.Map:
    use_local_assets()
    minx, miny, maxx, maxy = bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=13, tiles=None,
                   control_scale=True, keyboard=False)
    add_basemap(m, basemap)
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(8, 8))
    return m


def _grids(grids: pd.DataFrame, geom: str, basemap: Basemap, highlight: set | None = None
           ) -> folium.GeoJson:
    """``grids``: label, tooltip, deviation and the geometry column ``geom`` (lon/lat)."""
    live = grids[grids[geom].notna()]
    geoms = np.array(live[geom].tolist(), dtype=object)
    geoms = shapely.simplify(geoms, 2e-5, preserve_topology=True)
    if basemap.gcj02:
        geoms = shift_to_gcj02(geoms)
    features = [
        {"type": "Feature", "geometry": mapping(g),
         "properties": {"l": int(label), "t": html.escape(str(tip)),
                        "c": deviation_colour(int(dev)),
                        "h": bool(highlight and int(label) in highlight)}}
        for g, label, tip, dev in zip(geoms, live["label"], live["tooltip"], live["deviation"],
                                      strict=True)
    ]
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features}, name="grids", control=False,
        style_function=lambda f: {
            "color": "#1f2933" if f["properties"]["h"] else "#616e7c",
            "weight": 2.5 if f["properties"]["h"] else 0.8,
            "fillColor": f["properties"]["c"], "fillOpacity": 0.55},
        tooltip=folium.GeoJsonTooltip(fields=["t"], labels=False),
    )


def _points(frame: pd.DataFrame, colour: str, basemap: Basemap, radius: float = 3.5
            ) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name="points", control=False)
    rows = shift_rows([[lat, lon, tip] for lat, lon, tip in
                       zip(frame["lat"], frame["lon"], frame["tooltip"], strict=True)],
                      basemap.gcj02)
    for lat, lon, tip in rows:
        folium.CircleMarker(location=[lat, lon], radius=radius, weight=1, color="#ffffff",
                            fill=True, fill_color=colour, fill_opacity=0.95,
                            tooltip=html.escape(str(tip))).add_to(group)
    return group


def plan_map(grids: pd.DataFrame, *, geom: str, basemap: Basemap,
             moved: pd.DataFrame | None = None, highlight: set | None = None) -> folium.Map:
    """Grids coloured by deviation from their bounds, with moved households on top.

    Parameters
    ----------
    grids : label, tooltip (plain text, escaped here), deviation, and the polygon column named
        by ``geom`` (EPSG:4326).
    geom : which polygon column to draw ("geom_before" / "geom_after" / "geom").
    moved : lat, lon, tooltip of the households to mark (drawn in the "moved" colour).
    highlight : labels drawn with a heavy outline (the grids a plan changes).
    """
    live = grids[grids[geom].notna()]
    m = _map(shapely.total_bounds(np.array(live[geom].tolist(), dtype=object)), basemap)
    _grids(grids, geom, basemap, highlight).add_to(m)
    if moved is not None and not moved.empty:
        _points(moved, DEVIATION_COLOURS["moved"], basemap).add_to(m)
    return m


def edit_map(grids: pd.DataFrame, *, geom: str, basemap: Basemap, source: pd.DataFrame,
             target: pd.DataFrame, selected: pd.DataFrame) -> folium.Map:
    """Two grids for a hand edit: the source grid's households (click to select), the target
    grid's households, and the selected ones. Fitted to the two grids."""
    both = grids[grids[geom].notna()]
    m = _map(shapely.total_bounds(np.array(both[geom].tolist(), dtype=object)), basemap)
    _grids(grids, geom, basemap, set(both["label"].tolist())).add_to(m)
    for frame, colour in ((target, DEVIATION_COLOURS["target"]),
                          (source, "#525252"), (selected, DEVIATION_COLOURS["selected"])):
        if not frame.empty:
            _points(frame, colour, basemap, radius=5).add_to(m)
    return m
