"""What the district map shows right now, and which households to send for it.

st_folium reports the map's bounds and zoom after every pan or zoom. Households are sent as
individual points only for what is in view once the user has zoomed in (DESIGN.md §5: "aggregate
at district zoom; send points only for what is in view"); elsewhere they stay aggregated.

The area asked for is the view *snapped outward to web-map tiles* of the current zoom: a small
pan inside those tiles asks for exactly the same households, so the app sends nothing new and the
points already drawn simply move with the map; a longer pan crosses a tile edge and fetches the
new area. Snapping also makes the request a cache key that repeats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo.crs import gcj02_to_wgs84

__all__ = ["STREET_ZOOM", "Viewport", "load_box"]

STREET_ZOOM = 15
"""From this zoom on (a few streets across) the households in view are drawn one by one."""


@dataclass(frozen=True)
class Viewport:
    """The visible area in degrees (the basemap's datum) and the zoom level."""

    south: float
    west: float
    north: float
    east: float
    zoom: float

    @classmethod
    def from_map(cls, state: dict | None) -> Viewport | None:
        """Read st_folium's returned ``bounds`` and ``zoom``; None before the map reported."""
        try:
            sw, ne = state["bounds"]["_southWest"], state["bounds"]["_northEast"]
            view = cls(float(sw["lat"]), float(sw["lng"]), float(ne["lat"]), float(ne["lng"]),
                       float(state["zoom"]))
        except (KeyError, TypeError, ValueError):
            return None
        if not all(map(math.isfinite, (view.south, view.west, view.north, view.east))):
            return None
        return view if view.north > view.south and view.east > view.west else None

    @property
    def centre(self) -> tuple[float, float]:
        """``(lat, lon)`` of the middle of the view."""
        return (self.south + self.north) / 2, (self.west + self.east) / 2

    def covers(self, lon, lat):
        """Whether points (arrays or scalars, same datum as the view) are inside it."""
        return (lon >= self.west) & (lon <= self.east) & (lat >= self.south) & (lat <= self.north)


def _tile_x(lon: float, n: int) -> float:
    return (lon + 180.0) / 360.0 * n


def _tile_y(lat: float, n: int) -> float:
    lat = max(min(lat, 85.0511), -85.0511)
    rad = math.radians(lat)
    return (1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n


def _lon(x: float, n: int) -> float:
    return x / n * 360.0 - 180.0


def _lat(y: float, n: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))


def load_box(view: Viewport, *, gcj02: bool = False) -> tuple[float, float, float, float]:
    """The area to send households for: the view snapped outward to the tiles (256 px) of its
    zoom, as WGS84 ``(minx, miny, maxx, maxy)``, rounded to 1e-6°.

    With ``gcj02`` the view is in GCJ-02 (a Gaode basemap) and the box is shifted back.

    Examples
    --------
    >>> load_box(Viewport(30.001, 120.001, 30.002, 120.002, 16))
    (119.998169, 29.99776, 120.003662, 30.002517)
    """
    n = 2 ** math.floor(view.zoom)
    x0, x1 = math.floor(_tile_x(view.west, n)), math.ceil(_tile_x(view.east, n))
    y0, y1 = math.floor(_tile_y(view.north, n)), math.ceil(_tile_y(view.south, n))
    minx, maxx, maxy, miny = _lon(x0, n), _lon(x1, n), _lat(y0, n), _lat(y1, n)
    if gcj02:
        (minx, maxx), (miny, maxy) = gcj02_to_wgs84([minx, maxx], [miny, maxy])
        minx, maxx, miny, maxy = float(minx), float(maxx), float(miny), float(maxy)
    return (round(minx, 6), round(miny, 6), round(maxx, 6), round(maxy, 6))
