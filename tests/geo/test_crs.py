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
