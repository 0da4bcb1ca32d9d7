"""Coordinate systems: a local projected CRS for metres, and GCJ-02 for Gaode basemaps.

Data are stored in WGS84/CGCS2000 (the two agree to well under a metre). Gaode tiles are drawn in
GCJ-02, an obfuscated datum offset by a few hundred metres; overlays must be shifted to GCJ-02
*for display only* so they line up with the tiles. ``fast_geocn.wgs84_to_gcj02`` converts one
coordinate at a time; :func:`wgs84_to_gcj02` is the same published formula on numpy arrays, so a
whole layer shifts in one call (tested against fast-geocn).

Imports bring the other direction: coordinates picked on Chinese web maps are GCJ-02 (Gaode,
Tencent) or BD-09 (Baidu). The usual one-step inverse (subtract the shift computed at the shifted
point) is off by up to ~3 m; :func:`gcj02_to_wgs84` and :func:`bd09_to_wgs84` instead iterate
the vectorised forward formula to a fixed point, which converges to well below a millimetre in a
few rounds because the shift changes slowly with position (fast-geocn's scalar converters agree).
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "gk_crs",
    "gk_zone_crs",
    "in_china",
    "shift_to_gcj02",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses
_EE = 0.00669342162296594323


def gk_crs(lon: float) -> str:
    """The CGCS2000 3-degree Gauss-Krüger CRS (with central meridian) around ``lon``.

    EPSG:4534 is the zone centred on 75°E and each later code moves 3° east; EPSG:4549 (120°E)
    fits the eastern districts. Use it for areas, distances and hex bins in metres.
    """
    zone = round((float(lon) - 75.0) / 3.0)
    return f"EPSG:{4534 + min(max(zone, 0), 20)}"


def gk_zone_crs(zone: int, *, prefixed: bool) -> str:
    """The CGCS2000 3-degree Gauss-Krüger CRS of ``zone`` (central meridian ``3 * zone`` °E).

    ``prefixed`` chooses the variant whose false easting carries the zone number in front of X
    (zone 40: X = 40 500 000 at 120°E, EPSG:4528) rather than plain 500 000 (EPSG:4549).
    China spans zones 25 to 45.
    """
    if not 25 <= zone <= 45:
        raise ValueError(f"3-degree zone {zone} is outside China (25..45)")
    return f"EPSG:{(4513 if prefixed else 4534) + zone - 25}"


def in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The rough box inside which GCJ-02 applies (outside it coordinates are not shifted)."""
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Shift WGS84 longitudes/latitudes (arrays or scalars) to GCJ-02.

    Parameters
    ----------
    lon, lat : array_like
        Degrees; points outside China are returned unchanged.

    Returns
    -------
    tuple of ndarray
        GCJ-02 longitudes and latitudes.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def _shift_coords(coords: np.ndarray) -> np.ndarray:
    lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def shift_to_gcj02(geometries):
    """Shift shapely geometries (one or an array) to GCJ-02 in a single vectorised pass."""
    return shapely.transform(geometries, _shift_coords)


_ITERATIONS = 30
_TOLERANCE = 1e-12  # degrees (~0.1 µm)


def _invert(forward, lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x) = target`` by fixed-point iteration ``x += target - forward(x)``."""
    tlon = np.asarray(lon, dtype=float)
    tlat = np.asarray(lat, dtype=float)
    x, y = tlon.copy(), tlat.copy()
    for _ in range(_ITERATIONS):
        fx, fy = forward(x, y)
        dx, dy = tlon - fx, tlat - fy
        x, y = x + dx, y + dy
        if not (np.nanmax(np.abs(dx), initial=0.0) > _TOLERANCE
                or np.nanmax(np.abs(dy), initial=0.0) > _TOLERANCE):
            break
    return x, y


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 longitudes/latitudes back to WGS84 by iterating :func:`wgs84_to_gcj02`.

    The result shifted forward again reproduces the input to ~1e-12 degrees (the one-step
    approximation is off by up to ~3 m).
    """
    return _invert(wgs84_to_gcj02, lon, lat)


_X_PI = np.pi * 3000.0 / 180.0


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to Baidu's BD-09 (the published formula, vectorised)."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 back to GCJ-02 by iterating :func:`gcj02_to_bd09` (exact, not the usual one step)."""
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 to WGS84: both steps inverted exactly."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
