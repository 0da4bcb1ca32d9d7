"""Which households the district map sends for a given view: hand-made households, a fake source
(no database), hand-computed expectations."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo import district
from geo.basemap import Basemap
from geo.viewport import STREET_ZOOM, Viewport, load_box

DAY = dt.date(2026, 11, 20)


class FakeSource(district.MapSource):
    """A district of two 0.01° grids at 120°E 30°N and the households given, in memory."""

    def __init__(self, homes: pd.DataFrame) -> None:
        super().__init__(None, scope=None, today=DAY, lang="zh")
        self.homes = homes
        self.asked: list[tuple] = []

    def frames(self):
        grids = gpd.GeoDataFrame(
            {"grid_id": [1, 2], "code": ["G1", "G2"], "name": ["东村", "西村"],
             "kind": ["rural", "rural"], "town_id": [10, 10], "town_name": ["甲镇", "甲镇"],
             "leader": ["王干部", "李干部"]},
            geometry=[shapely.box(120.0, 30.0, 120.01, 30.01),
                      shapely.box(120.01, 30.0, 120.02, 30.01)], crs="EPSG:4326")
        towns = gpd.GeoDataFrame({"town_id": [10], "name": ["甲镇"]},
                                 geometry=[grids.geometry.union_all()], crs="EPSG:4326")
        counters = pd.DataFrame({key: [1, 2] for key in district.METRICS},
                                index=pd.Index([1, 2], name="grid_id"))
        return grids, towns, counters

    def households(self):
        return self.homes

    def households_in_box(self, box, limit):
        self.asked.append((box, limit))
        minx, miny, maxx, maxy = box
        inside = self.homes[self.homes["lon"].between(minx, maxx)
                            & self.homes["lat"].between(miny, maxy)]
        return inside.head(limit + 1)


def _homes(points: list[tuple[float, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(points, columns=["lon", "lat", "tags"])


def _map_state(south, west, north, east, zoom) -> dict:
    return {"bounds": {"_southWest": {"lat": south, "lng": west},
                       "_northEast": {"lat": north, "lng": east}}, "zoom": zoom}


# --- the view the map reports ---------------------------------------------------------------


def test_view_is_read_from_what_st_folium_returns():
    view = Viewport.from_map(_map_state(30.0, 120.0, 30.01, 120.02, 15))
    assert view == Viewport(30.0, 120.0, 30.01, 120.02, 15.0)
    assert view.centre == (pytest.approx(30.005), pytest.approx(120.01))
    assert Viewport.from_map(None) is None
    assert Viewport.from_map({"bounds": {"_southWest": {"lat": None, "lng": None},
                                         "_northEast": {"lat": None, "lng": None}},
                              "zoom": 11}) is None  # st_folium's default before the map drew
    assert Viewport.from_map(_map_state(30.01, 120.0, 30.0, 120.02, 15)) is None  # inverted


def test_load_box_snaps_outward_to_the_tiles_of_the_zoom():
    # at zoom 16 a tile is 360 / 65536 = 0.0054931640625° wide; 120.001 lies in tile 54613
    # (west edge 119.998168945...) and 120.002 in the same tile (east edge 120.003662109...)
    box = load_box(Viewport(30.001, 120.001, 30.002, 120.002, 16))
    assert box[0] == pytest.approx(-180 + 54613 * 360 / 65536, abs=1e-6)
    assert box[2] == pytest.approx(-180 + 54614 * 360 / 65536, abs=1e-6)
    assert box[1] < 30.001
    assert box[3] > 30.002


def test_a_small_pan_asks_for_the_same_box_a_long_one_for_another():
    here = Viewport(30.001, 120.001, 30.002, 120.002, 16)
    nudged = Viewport(30.001, 120.0012, 30.002, 120.0022, 16)
    far = Viewport(30.001, 120.011, 30.002, 120.012, 16)
    assert load_box(nudged) == load_box(here)
    assert load_box(far) != load_box(here)


# --- which households are sent ----------------------------------------------------------------


def test_street_zoom_sends_the_households_in_view_only():
    homes = _homes([(120.0050, 30.0050, ""), (120.0052, 30.0051, "dibao"),
                    (120.0150, 30.0050, "")])  # the third is 1 km east, out of view
    source = FakeSource(homes)
    view = Viewport(30.0040, 120.0040, 30.0060, 120.0060, STREET_ZOOM + 1)
    overlay = district.household_overlay(source, view)
    assert overlay.kind == "household"
    assert overlay.rows == [[30.005, 120.005, 0], [30.0051, 120.0052, 3]]  # 3: 低保
    assert source.asked == [(load_box(view), district.STREET_POINT_LIMIT)]
    south, west, north, east = overlay.box
    assert west <= 120.004
    assert east >= 120.006
    assert south <= 30.004
    assert north >= 30.006


def test_below_street_zoom_few_households_in_view_are_still_points():
    homes = _homes([(120.005, 30.005, ""), (120.015, 30.005, "")])
    source = FakeSource(homes)
    overlay = district.household_overlay(source, Viewport(29.99, 119.99, 30.02, 120.03, 12))
    assert overlay.kind == "household"
    assert len(overlay.rows) == 2
    assert source.asked[0][1] == district.VIEW_POINT_LIMIT


def test_too_many_in_view_stay_counted_in_cells(monkeypatch):
    monkeypatch.setattr(district, "VIEW_POINT_LIMIT", 3)
    homes = _homes([(120.001 + i * 0.0001, 30.005, "") for i in range(4)]
                   + [(120.015, 30.005, "wubao")])
    source = FakeSource(homes)
    overlay = district.household_overlay(source, Viewport(29.99, 119.99, 30.02, 120.03, 12))
    assert overlay.kind == "cell"
    # the four close households share one cell, the fifth (1.3 km away) has its own
    rows = sorted(overlay.rows, key=lambda r: r[1])
    assert len(rows) == 2
    assert rows[0][3] == 0
    assert rows[1][3] == 1.0
    assert rows[0][2] > rows[1][2]  # the busier cell is in a larger size class


def test_before_the_map_reports_a_view_households_are_cells():
    source = FakeSource(_homes([(120.005, 30.005, "")]))
    assert district.household_overlay(source, None).kind == "cell"
    assert source.asked == []


def test_grids_in_view_and_the_whole_scope():
    source = FakeSource(_homes([]))
    base = source.base()
    assert district.grids_in_view(base, None) is None
    assert district.grids_in_view(base, Viewport(29.9, 119.9, 30.1, 120.1, 11)) is None
    assert district.grids_in_view(base, Viewport(30.0, 120.0, 30.01, 120.009, 15)) == (1,)


def test_the_builder_sends_points_only_when_the_overlay_is_on():
    source = FakeSource(_homes([(120.005, 30.005, "")]))
    view = Viewport(30.004, 120.004, 30.006, 120.006, 16)
    plain = district.district_map(source, district.MapChoice(), Basemap("none"), view=view)
    assert plain.households is None
    assert len(plain.layers) == 1
    built = district.district_map(source, district.MapChoice("open_cases", ("households",)),
                                  Basemap("none"), view=view)
    assert built.households.kind == "household"
    assert len(built.layers) == 2
    assert list(built.classes.index) == [0, 1]  # open cases 1 and 2: one class each
