"""GCJ-02 shift (vectorised, checked against fast-geocn) and the local projected CRS."""

from __future__ import annotations

import numpy as np
import shapely
from fast_geocn import wgs84_to_gcj02 as scalar_gcj02

from geo.crs import gk_crs, shift_to_gcj02, wgs84_to_gcj02


def test_vectorised_shift_matches_fast_geocn():
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(98, 125, 200), rng.uniform(20, 45, 200)
    got_lon, got_lat = wgs84_to_gcj02(lon, lat)
    want = np.array([scalar_gcj02(x, y) for x, y in zip(lon, lat, strict=True)])
    assert np.allclose(got_lon, want[:, 0], atol=1e-9)
    assert np.allclose(got_lat, want[:, 1], atol=1e-9)


def test_outside_china_is_not_shifted():
    lon, lat = wgs84_to_gcj02([2.35, 151.2], [48.85, -33.87])
    assert lon.tolist() == [2.35, 151.2]
    assert lat.tolist() == [48.85, -33.87]


def test_geometries_shift_in_one_call_and_keep_their_shape():
    polys = np.array([shapely.box(120, 30, 120.01, 30.01), shapely.box(121, 31, 121.01, 31.01)])
    moved = shift_to_gcj02(polys)
    # GCJ-02 is a smooth warp, not a translation: areas change by well under 1 %
    assert all(abs(a.area - b.area) / a.area < 1e-2 for a, b in zip(polys, moved, strict=True))
    assert moved[0].bounds[0] != polys[0].bounds[0]


def test_gauss_kruger_zone_for_120_east():
    assert gk_crs(120.2) == "EPSG:4549"
    assert gk_crs(117.0) == "EPSG:4548"


def test_gcj02_and_bd09_inverses_are_exact_and_agree_with_fast_geocn():
    from fast_geocn import bd09_to_wgs84 as scalar_bd09

    from geo.crs import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_bd09

    rng = np.random.default_rng(1)
    lon, lat = rng.uniform(98, 125, 300), rng.uniform(20, 45, 300)
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    # metres: 1 degree is at most ~111 km
    assert np.abs(back[0] - lon).max() * 111_320 < 0.01
    assert np.abs(back[1] - lat).max() * 111_320 < 0.01
    b_lon, b_lat = wgs84_to_bd09(lon, lat)
    back = bd09_to_wgs84(b_lon, b_lat)
    assert np.abs(back[0] - lon).max() * 111_320 < 0.01
    assert np.abs(back[1] - lat).max() * 111_320 < 0.01
    want = np.array([scalar_bd09(x, y) for x, y in zip(b_lon[:20], b_lat[:20], strict=True)])
    assert np.allclose(back[0][:20], want[:, 0], atol=5e-6)  # within ~0.5 m of fast-geocn


def test_one_step_inverse_would_miss_by_metres():
    """Why the inverse iterates: subtracting the shift once is off by ~2 m in Shanghai."""
    from geo.crs import gcj02_to_wgs84

    lon, lat = np.array([121.47]), np.array([31.23])
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    s_lon, s_lat = wgs84_to_gcj02(g_lon, g_lat)
    one_step = 2 * g_lon - s_lon, 2 * g_lat - s_lat
    metres = 111_320 * np.cos(np.radians(31.23)), 110_900
    error_m = np.hypot((one_step[0] - lon) * metres[0], (one_step[1] - lat) * metres[1])[0]
    assert error_m > 1.5
    back = gcj02_to_wgs84(g_lon, g_lat)
    assert np.hypot((back[0] - lon) * metres[0], (back[1] - lat) * metres[1])[0] < 0.001


def test_gauss_kruger_zone_crs_with_and_without_prefix():
    from geo.crs import gk_zone_crs

    assert gk_zone_crs(40, prefixed=True) == "EPSG:4528"
    assert gk_zone_crs(40, prefixed=False) == "EPSG:4549"
    assert gk_zone_crs(25, prefixed=True) == "EPSG:4513"
