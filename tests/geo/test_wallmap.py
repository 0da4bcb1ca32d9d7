"""The wall display's SVG map, on two hand-made grids in one town."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from shapely.geometry import MultiPolygon, box

from geo.wallmap import WIDTH, svg_map


@pytest.fixture
def frames():
    # two 0.01° x 0.01° cells side by side at 30°N: 0.02° wide, 0.01° tall
    grids = gpd.GeoDataFrame({"grid_id": [7, 8], "town_id": [1, 1]},
                             geometry=[box(120.00, 30.00, 120.01, 30.01),
                                       box(120.01, 30.00, 120.02, 30.01)], crs="EPSG:4326")
    towns = gpd.GeoDataFrame({"town_id": [1]},
                             geometry=[MultiPolygon([box(120.00, 30.00, 120.02, 30.01)])],
                             crs="EPSG:4326")
    return grids, towns


def test_one_path_per_grid_in_row_order_with_its_fill(frames):
    grids, towns = frames
    svg = svg_map(grids, towns, ["#111111", "#222222"], tolerance_m=0)
    fills = re.findall(r"<path class='g' fill='([^']+)' d='M([^Z]+)Z'/>", svg)
    assert [f for f, _ in fills] == ["#111111", "#222222"]
    first_x = [float(v) for v in fills[0][1].split()[0::2]]
    second_x = [float(v) for v in fills[1][1].split()[0::2]]
    assert max(first_x) <= min(second_x) + 0.1  # the first grid is the western one
    assert svg.count("<path class='t'") == 1


def test_shape_kept_east_west_shrunk_by_latitude(frames):
    grids, towns = frames
    svg = svg_map(grids, towns, ["#111", "#222"], tolerance_m=0, pad=0)
    width, height = map(float, re.search(r"viewBox='0 0 (\S+) (\S+)'", svg).groups())
    # 0.02° of longitude at 30°N is 0.02 * cos(30°) = 0.01732 "latitude degrees" wide, 0.01 tall
    assert width == WIDTH
    assert height == pytest.approx(WIDTH * 0.01 / 0.01732, abs=1)


def test_labels_are_escaped_and_fills_must_match(frames):
    grids, towns = frames
    svg = svg_map(grids, towns, ["#111", "#222"], labels=["<b>清河镇</b>"], css=".g{}")
    assert "&lt;b&gt;清河镇&lt;/b&gt;" in svg
    assert "<b>" not in svg
    assert "<style>.g{}</style>" in svg
    assert svg.startswith("<svg xmlns=")
    with pytest.raises(ValueError, match="1 fills for 2 grids"):
        svg_map(grids, towns, ["#111"])
