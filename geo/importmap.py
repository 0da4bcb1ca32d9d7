"""The preview map of an import: what the file would put where, problem rows in red.

Grids are drawn as polygons, households as small circles. A household list can hold 100,000+
points, far more than a browser takes as GeoJSON (see DESIGN §5), so at most
:data:`POINT_LIMIT` households are drawn, problem rows first. Every string from the file is
HTML-escaped before it goes into a tooltip.
"""

from __future__ import annotations

import html

import folium
import geopandas as gpd
import numpy as np
import shapely

from geo.basemap import Basemap, add_basemap
from geo.crs import shift_to_gcj02

__all__ = ["POINT_LIMIT", "preview_map"]

POINT_LIMIT = 3_000
OK, PROBLEM, SKIPPED = "#1565c0", "#d50000", "#6d4c41"


def _sample(preview: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if len(preview) <= POINT_LIMIT:
        return preview
    order = np.argsort(~preview["problem"].to_numpy(), kind="stable")
    return preview.iloc[order[:POINT_LIMIT]]


def _colour(row: dict) -> str:
    if row.get("skipped"):
        return SKIPPED
    return PROBLEM if row.get("problem") else OK


def preview_map(preview: gpd.GeoDataFrame, *, basemap: Basemap, row_label: str) -> folium.Map:
    """A folium map of ``preview`` (``row``, ``code``, ``problem``, optional ``name`` and
    ``skipped`` columns; EPSG:4326), fitted to its extent.

    Parameters
    ----------
    preview : GeoDataFrame
        From :attr:`minqing.importer.Plan.preview`.
    basemap : Basemap
        Tiles (GCJ-02 basemaps get the overlay shifted for display).
    row_label : str
        The word for "row" in the tooltips.
    """
    shown = _sample(preview[~preview.geometry.is_empty & preview.geometry.notna()])
    geoms = shown.geometry.to_numpy()
    if basemap.gcj02 and len(geoms):
        geoms = shift_to_gcj02(geoms)
    kept = geoms[~shown["skipped"].to_numpy(dtype=bool)] if "skipped" in shown else geoms
    if len(kept):  # skipped rows (far outside the district, say) do not stretch the view
        x0, y0, x1, y1 = shapely.total_bounds(kept)
    elif len(geoms):
        x0, y0, x1, y1 = shapely.total_bounds(geoms)
    else:
        x0, y0, x1, y1 = 73.0, 18.0, 135.0, 54.0
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=11, tiles=None,
                   control_scale=True)
    add_basemap(m, basemap)
    props = []
    for rec in shown.drop(columns="geometry").to_dict("records"):
        label = f"{html.escape(row_label)} {int(rec['row'])}: {html.escape(str(rec.get('code', '')))}"
        if rec.get("name"):
            label += f" {html.escape(str(rec['name']))}"
        props.append({"label": label, "colour": _colour(rec)})
    features = [{"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(g)}
                for p, g in zip(props, geoms, strict=True)]
    layer = {"type": "FeatureCollection", "features": features}
    points = len(geoms) and shapely.get_type_id(geoms[0]) == 0
    folium.GeoJson(
        layer,
        style_function=lambda f: {"color": f["properties"]["colour"], "weight": 1.5,
                                  "fillColor": f["properties"]["colour"], "fillOpacity": 0.25},
        marker=folium.CircleMarker(radius=4, fill=True, fill_opacity=0.8) if points else None,
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
    ).add_to(m)
    m.fit_bounds([[y0, x0], [y1, x1]], padding=(8, 8))
    return m
