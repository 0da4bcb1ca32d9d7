"""Layer builders on a tiny handmade district: classification, geometry, escaping."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.layers import (
    case_rows,
    grid_cards,
    grid_geometry,
    grid_tooltip_html,
    group_rows,
    hexbin_households,
    household_rows,
    town_labels,
)

EVIL = "<script>alert(1)</script>"


def _square(x: float, y: float, size: float = 0.01) -> shapely.Polygon:
    return shapely.box(x, y, x + size, y + size)


@pytest.fixture
def grids() -> gpd.GeoDataFrame:
    """Four grids in a 2x2 block near 120°E; grid 4 belongs to a second town."""
    return gpd.GeoDataFrame(
        {
            "grid_id": [1, 2, 3, 4],
            "code": ["G1", "G2", "G3", "G4"],
            "name": ["东村", "西村", EVIL, "南社区"],
            "kind": ["rural", "rural", "rural", "urban"],
            "town_id": [10, 10, 10, 20],
            "town_name": ["甲镇", "甲镇", "甲镇", "乙街道"],
            "leader": ["王干部", None, EVIL, "李干部"],
        },
        geometry=[_square(120.0, 30.0), _square(120.01, 30.0), _square(120.0, 30.01),
                  _square(120.01, 30.01)],
        crs="EPSG:4326",
    )


@pytest.fixture
def towns(grids) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"town_id": [10, 20], "name": ["甲镇", EVIL]},
        geometry=[grids.geometry[:3].union_all(), grids.geometry[3]], crs="EPSG:4326",
    )


@pytest.fixture
def counters() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "households": [120, 80, 0, 300],
            "open_cases": [0, 2, 5, 1],
            "overdue_cases": [0, 0, 3, 1],
            "risks_90d": [1, 0, 0, 4],
            "diary_30d": [0, 6, 2, 9],
            "days_since_diary": [45.0, 2.0, np.nan, 0.0],
        },
        index=pd.Index([1, 2, 3, 4], name="grid_id"),
    )


# --- geometry -------------------------------------------------------------------------------


def test_grid_geometry_keeps_order_bounds_and_rounds(grids, towns):
    geo = grid_geometry(grids, towns)
    data = json.loads(geo.grids_geojson)
    assert geo.grid_ids == (1, 2, 3, 4)
    assert [f["properties"]["g"] for f in data["features"]] == [1, 2, 3, 4]
    coords = np.array(data["features"][0]["geometry"]["coordinates"][0])
    assert np.allclose(coords, np.round(coords, 5))
    assert geo.bounds == pytest.approx((120.0, 30.0, 120.02, 30.02), abs=1e-4)
    town_data = json.loads(geo.towns_geojson)
    assert [f["properties"]["t"] for f in town_data["features"]] == [10, 20]


def test_simplification_keeps_shared_borders_shared(grids, towns):
    wiggly = grids.copy()
    # densify with tiny wiggles on every edge, identically on both sides of shared edges
    wiggly["geometry"] = shapely.segmentize(np.asarray(grids.geometry.values), 0.0005)
    geo = grid_geometry(wiggly, towns, tolerance_m=20)
    polys = shapely.from_geojson([json.dumps(f["geometry"]) for f in
                                  json.loads(geo.grids_geojson)["features"]])
    total = shapely.union_all(polys).area
    assert sum(p.area for p in polys) == pytest.approx(total, rel=1e-6)  # no overlaps
    assert total == pytest.approx(shapely.union_all(grids.geometry.values).area, rel=1e-3)


def test_gcj02_shift_moves_geometry_by_a_few_hundred_metres(grids, towns):
    plain = grid_geometry(grids, towns)
    shifted = grid_geometry(grids, towns, gcj02=True)
    dx = shifted.bounds[0] - plain.bounds[0]
    assert 0.001 < abs(dx) < 0.01


def test_crs_mismatch_is_refused(grids, towns):
    with pytest.raises(ValueError, match="CRS"):
        grid_geometry(grids, towns.to_crs("EPSG:3857"))


# --- escaping -------------------------------------------------------------------------------


def test_grid_tooltips_escape_names_and_show_counters(grids, counters):
    cards = grid_cards(grids, counters, "zh")
    assert EVIL not in json.dumps(cards.rows, ensure_ascii=False)
    tips = [grid_tooltip_html(cards, i) for i in range(4)]
    assert len(tips) == 4
    assert EVIL not in "".join(tips)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in tips[2]
    assert "东村" in tips[0]
    assert "G1 · 甲镇" in tips[0]
    assert "王干部" in tips[0]
    assert "<td>5</td>" in tips[2]  # open cases of grid 3
    assert "—" in tips[2]  # no diary entry ever: no "days since"


def test_town_labels_are_escaped(towns):
    labels = town_labels(towns)
    assert labels[1][2] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert shapely.Point(labels[0][1], labels[0][0]).within(towns.geometry[0])


def test_household_rows_carry_position_and_care_category_but_no_personal_data():
    frame = pd.DataFrame({
        "household_id": [7, 8, 9], "code": ["H7", "H8", "H9"], "grid_id": [1, 1, 1],
        "head_name": ["王五", "张三", "李四"], "size": [3, 1, 2],
        "tags": ["", "elderly_alone,wubao", "military"],
        "lon": [120.001234567, 120.002, 120.003], "lat": [30.001, 30.002, 30.003],
    })
    rows = household_rows(frame)
    # 五保 outranks 独居老人 (category 2 of CARE_ORDER); 优抚 is the last category, 6
    assert rows == [[30.001, 120.00123, 0], [30.002, 120.002, 2], [30.003, 120.003, 6]]


def test_household_tooltips_for_a_grid_view_carry_no_name_and_are_escaped():
    frame = pd.DataFrame({
        "household_id": [7, 8], "code": [EVIL, "H8"], "grid_id": [1, 1],
        "head_name": ["王五", "张*"], "size": [3, 1], "tags": ["", "wubao,elderly_alone"],
        "lon": [120.001, 120.002], "lat": [30.001, 30.002],
    })
    rows = household_rows(frame, "zh")
    text = json.dumps(rows, ensure_ascii=False)
    assert EVIL not in text
    assert "王五" not in text
    assert "张" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rows[0][3]
    assert "五保户" in rows[1][3]
    assert "独居老人" in rows[1][3]


def test_group_popup_lists_members_escaped():
    groups = pd.DataFrame({
        "group_id": [1], "grid_id": [1], "grid_name": ["东村"], "leader": ["王干部"],
        "lon": [120.005], "lat": [30.005],
        "members": [[("leader", "王干部"), ("police", EVIL), ("medic", "赵医生")]],
    })
    rows = group_rows(groups, "zh")
    popup = rows[0][2]
    assert EVIL not in popup
    assert "&lt;script&gt;" in popup
    assert "东村" in rows[0][3]
    assert "民警" in popup
    assert "赵医生" in popup


def test_case_rows_colour_by_track_place_missing_locations_in_grid(grids):
    cases = pd.DataFrame({
        "case_id": [1, 2], "code": ["C1", "C2"], "title": [EVIL, "修路"],
        "track": ["promised", "liaison"], "status": ["handling", "registered"],
        "deadline": ["2026-11-01", "2026-12-01"], "grid_id": [3, 1],
        "green_channel": [False, True], "is_risk": [False, False],
        "overdue": [True, False], "days_overdue": [19, 0],
        "lon": [np.nan, 120.004], "lat": [np.nan, 30.004],
    })
    rows = case_rows(cases, grids, "zh")
    assert len(rows) == 2
    assert "&lt;script&gt;" in rows[0][4]
    assert EVIL not in rows[0][4]
    assert rows[0][3] == 1
    assert "19" in rows[0][4]
    assert shapely.Point(rows[0][1], rows[0][0]).within(grids.geometry[2].buffer(0.002))
    assert rows[0][2] != rows[1][2]
    assert "绿色通道" in rows[1][4]  # the green channel is marked wherever a case appears
    assert "绿色通道" not in rows[0][4]
    assert "href='/case?case=1'" in rows[0][4]
    # served under a mount path (server.baseUrlPath), the popup links stay inside the app
    mounted = case_rows(cases, grids, "zh", link_base="/minqing/")
    assert "href='/minqing/case?case=1'" in mounted[0][4]


def test_hexbin_counts_every_household_once():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"lon": 120 + rng.random(5000) * 0.1, "lat": 30 + rng.random(5000) * 0.1,
                          "tags": np.where(rng.random(5000) < 0.1, "dibao", "")})
    cells = hexbin_households(frame, size_m=500)
    assert cells["households"].sum() == 5000
    assert cells["vulnerable"].sum() == (frame["tags"] != "").sum()
    assert 50 < len(cells) < 5000
    # each cell sits where its households are: never outside the area they cover
    assert cells["lon"].between(120, 120.1).all()
    assert cells["lat"].between(30, 30.1).all()


def test_hexbin_places_a_cell_at_its_households_mean():
    # three households 20 m apart share one 500 m cell; a fourth 5 km away has its own
    frame = pd.DataFrame({"lon": [120.0, 120.0002, 120.0004, 120.05],
                          "lat": [30.0, 30.0, 30.0, 30.0], "tags": ["", "wubao", "", ""]})
    cells = hexbin_households(frame, size_m=500).sort_values("lon").reset_index(drop=True)
    assert cells["households"].tolist() == [3, 1]
    assert cells["vulnerable"].tolist() == [1, 0]
    assert cells.loc[0, "lon"] == pytest.approx(120.0002, abs=2e-5)
    assert cells.loc[0, "lat"] == pytest.approx(30.0, abs=2e-5)
