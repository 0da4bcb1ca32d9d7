"""The wall display's map: grids coloured by a metric, town outlines and names, as one SVG.

Why not the district map's Leaflet map: a wall display has no pointer and no one to pan it, and it
switches views every few seconds. A Leaflet map in an iframe reloads its scripts and all its
geometry on each switch (the district map takes ~2.5 s to appear) and has fixed-pixel lines and
labels that are unreadable on a 4K screen across a room. A static SVG with a ``viewBox`` appears in
one DOM update, needs no script and no tiles, and its lines and labels scale with the screen.

The geometry is the district map's own (:func:`geo.layers.grid_geometry`: coverage simplification,
so neighbours keep shared borders) and the colours come from its classifier
(:func:`geo.style.classify` with the metric's palette); only the drawing is done here. Styles are
left to CSS classes (``g`` grids, ``t`` town outlines, ``l`` labels) so a theme can restyle them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from geo.layers import grid_geometry

__all__ = ["WIDTH", "svg_map"]

WIDTH = 1000.0
"""Width of the SVG's coordinate space; the height follows the area's shape."""


def _projector(bounds: tuple[float, float, float, float], pad: float):
    """Longitude/latitude to SVG units: equirectangular at the area's mean latitude (a district
    spans a few tens of kilometres, where this is indistinguishable from a conformal projection)."""
    minx, miny, maxx, maxy = bounds
    kx = math.cos(math.radians((miny + maxy) / 2))
    span_x, span_y = max((maxx - minx) * kx, 1e-9), max(maxy - miny, 1e-9)
    scale = (WIDTH - 2 * pad) / span_x
    height = span_y * scale + 2 * pad

    def project(coords: np.ndarray) -> np.ndarray:
        x = (coords[:, 0] - minx) * kx * scale + pad
        y = (maxy - coords[:, 1]) * scale + pad
        return np.round(np.column_stack([x, y]), 1)

    return project, height


def _path(geom, project) -> str:
    """SVG path data for a (multi)polygon: every ring a closed subpath (even-odd fill)."""
    parts = []
    for poly in getattr(geom, "geoms", [geom]):
        for ring in (poly.exterior, *poly.interiors):
            pts = project(np.asarray(ring.coords)[:-1])
            if len(pts) < 3:
                continue
            body = " ".join(f"{x:g} {y:g}" for x, y in pts)
            parts.append(f"M{body}Z")
    return "".join(parts)


def svg_map(
    grids: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame,
    fills: Sequence[str],
    *,
    labels: Sequence[str] = (),
    tolerance_m: float = 15.0,
    pad: float = 12.0,
    css: str = "",
) -> str:
    """An ``<svg>`` of ``grids`` filled with ``fills`` (one colour per grid, in row order) under
    the outlines of ``towns``, each labelled with the matching entry of ``labels`` (escaped here).

    Parameters
    ----------
    grids : GeoDataFrame
        ``grid_id``, ``town_id`` and polygons in EPSG:4326.
    towns : GeoDataFrame
        ``town_id`` and polygons in EPSG:4326: the outlines drawn over the grids.
    fills : sequence of str
        CSS colours, one per row of ``grids``.
    labels : sequence of str
        Text to write at a point inside each town (empty: no labels).
    tolerance_m : float
        Simplification in metres (a pixel of the drawn map is a good choice).
    css : str
        A stylesheet for the classes ``g``, ``t`` and ``l``, embedded in the SVG.

    Returns
    -------
    str
        A standalone SVG document (it can be an ``<img>``'s data URI: pages that sanitise HTML
        to its HTML profile strip inline SVG).
    """
    if len(fills) != len(grids):
        raise ValueError(f"{len(fills)} fills for {len(grids)} grids")
    head = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {w:g} {h:.0f}'>"
    style = f"<style>{css}</style>" if css else ""
    if grids.empty:
        return head.format(w=WIDTH, h=WIDTH / 2) + style + "</svg>"
    frame = grids[["grid_id", "town_id", "geometry"]]
    geometry = grid_geometry(frame, towns.assign(name=""), tolerance_m=tolerance_m)
    grid_geoms = shapely.from_geojson(geometry.grids_geojson).geoms
    town_geoms = shapely.from_geojson(geometry.towns_geojson).geoms
    project, height = _projector(geometry.bounds, pad)
    out = [head.format(w=WIDTH, h=height), style]
    out += [f"<path class='g' fill='{html.escape(fill)}' d='{_path(geom, project)}'/>"
            for geom, fill in zip(grid_geoms, fills, strict=True)]
    out += [f"<path class='t' d='{_path(geom, project)}'/>" for geom in town_geoms]
    if labels:
        points = shapely.point_on_surface(np.asarray(towns.geometry.values))
        for point, label in zip(points, labels, strict=True):
            x, y = project(np.array([[point.x, point.y]]))[0]
            out.append(f"<text class='l' x='{x:g}' y='{y:g}'>{html.escape(str(label))}</text>")
    out.append("</svg>")
    return "".join(out)
