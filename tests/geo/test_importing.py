"""Reading grid files and checking them: encodings, CRSs, swapped axes, repairs, coverage."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from geo.importing import (
    UnreadableFile,
    check_coverage,
    decode_text,
    infer_crs,
    read_grid_layer,
    repair_geometries,
    to_wgs84,
)
from tests.importfiles import GK, GK_PREFIXED, county_grids, write_zipped_shapefile


def test_text_encodings_utf8_bom_and_gbk():
    text = "户编码,户主姓名\n1,张三\n"
    assert decode_text(text.encode("utf-8")) == (text, "utf-8")
    assert decode_text(b"\xef\xbb\xbf" + text.encode("utf-8")) == (text, "utf-8-sig")
    assert decode_text(text.encode("gbk")) == (text, "gb18030")
    assert decode_text("𠀀".encode("gb18030"))[0] == "𠀀"  # beyond GBK: a 4-byte GB18030 char


@pytest.mark.parametrize(("x", "y", "crs", "swapped", "how"), [
    ([120.7, 120.8], [30.7, 30.8], "EPSG:4490", False, "degrees"),
    ([30.7, 30.8], [120.7, 120.8], "EPSG:4490", True, "degrees"),
    ([40_512_345.0, 40_523_456.0], [3_401_000.0, 3_402_000.0], "EPSG:4528", False,
     "gk_zone_prefix"),
    ([3_401_000.0, 3_402_000.0], [40_512_345.0, 40_523_456.0], "EPSG:4528", True,
     "gk_zone_prefix"),
    ([39_500_000.0], [3_400_000.0], "EPSG:4527", False, "gk_zone_prefix"),
])
def test_crs_inferred_from_coordinate_ranges(x, y, crs, swapped, how):
    choice = infer_crs(np.array(x), np.array(y))
    assert (choice.crs, choice.swapped, choice.how) == (crs, swapped, how)


def test_gauss_kruger_without_zone_needs_the_district_or_asks():
    x, y = np.array([512_345.0]), np.array([3_401_000.0])
    asked = infer_crs(x, y)
    assert asked.crs is None
    assert "EPSG:4549" in asked.candidates
    assert infer_crs(x, y, near_lon=120.76).crs == "EPSG:4549"
    assert infer_crs(x, y, near_lon=117.2).crs == "EPSG:4548"


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_geojson_claiming_wgs84_but_holding_metres_is_inferred(tmp_path):
    grids = county_grids().to_crs(GK_PREFIXED)
    path = tmp_path / "grids.geojson"
    grids.set_crs(None, allow_override=True).to_file(path, driver="GeoJSON", crs=None)
    layer = read_grid_layer(path)
    assert layer.declared_crs is None  # GDAL's WGS84 claim is not trusted
    frame, choice, findings = to_wgs84(layer.frame, layer.declared_crs)
    assert choice.crs == "EPSG:4528"
    assert [f.code for f in findings] == ["crs_inferred"]
    got = frame.geometry.to_crs(GK).area.to_numpy()
    want = county_grids().to_crs(GK).area.to_numpy()
    assert np.allclose(got, want, rtol=1e-6)


def test_zipped_shapefile_gbk_without_cpg_or_prj(tmp_path):
    grids = county_grids()
    archive = write_zipped_shapefile(grids, tmp_path / "shp", crs=GK, encoding="gbk", cpg=False,
                                     prj=False)
    layer = read_grid_layer(archive)
    codes = [(f.code, f.action) for f in layer.findings]
    assert ("encoding_detected", "note") in codes
    assert ("prj_missing", "note") in codes
    assert layer.encoding == "gb18030"
    assert layer.declared_crs is None
    assert layer.frame["镇街"].tolist() == grids["镇街"].tolist()  # Chinese names not garbled
    assert layer.frame["_row"].tolist() == list(range(1, len(grids) + 1))
    frame, choice, _ = to_wgs84(layer.frame, None, near_lon=120.76)
    assert choice.crs == "EPSG:4549"
    shift = frame.geometry.to_crs(GK).centroid.distance(grids.geometry.to_crs(GK).centroid).max()
    assert shift < 0.01  # metres


def test_zipped_shapefile_with_cpg_and_prj(tmp_path):
    archive = write_zipped_shapefile(county_grids(), tmp_path / "shp", crs=GK, encoding="gbk")
    layer = read_grid_layer(archive)
    assert layer.encoding == "gbk"
    assert CRS.from_user_input(layer.declared_crs).to_epsg() == 4549
    assert layer.frame["镇街"].iloc[0] in ("余新镇", "大桥镇")


def test_kml_and_geopackage_are_read(tmp_path):
    grids = county_grids()
    kml = tmp_path / "grids.kml"
    grids.rename(columns={"网格名称": "Name"}).to_file(kml, driver="KML")
    layer = read_grid_layer(kml)
    assert len(layer.frame) == len(grids)
    gpkg = tmp_path / "grids.gpkg"
    grids.to_file(gpkg, layer="grids", driver="GPKG")
    layer = read_grid_layer(gpkg)
    assert CRS.from_user_input(layer.declared_crs).to_epsg() == 4326
    assert layer.frame["网格编码"].tolist() == grids["网格编码"].tolist()


def test_unreadable_files(tmp_path):
    bad = tmp_path / "grids.gpkg"
    bad.write_bytes(b"not a geopackage")
    with pytest.raises(UnreadableFile) as info:
        read_grid_layer(bad)
    assert info.value.code == "corrupt"
    with pytest.raises(UnreadableFile) as info:
        read_grid_layer(tmp_path / "grids.dwg")
    assert info.value.code == "unknown_format"


def _frame(geoms, crs="EPSG:4326"):
    return gpd.GeoDataFrame({"_row": np.arange(1, len(geoms) + 1),
                             "code": [f"G{i}" for i in range(1, len(geoms) + 1)]},
                            geometry=geoms, crs=crs)


def test_bow_tie_is_repaired_keeping_the_larger_part():
    # a bow-tie: two triangles meeting at (120.51, 30.51); the left one is twice as wide
    bow = shapely.Polygon([(120.49, 30.50), (120.52, 30.52), (120.52, 30.50), (120.49, 30.52)])
    ok = shapely.box(120.6, 30.5, 120.61, 30.51)
    frame, findings = repair_geometries(_frame([bow, ok]), GK)
    assert len(frame) == 2
    assert frame.geometry.iloc[0].is_valid
    assert frame.geometry.iloc[0].geom_type == "Polygon"
    assert [(f.row, f.code, f.action) for f in findings] == [
        (1, "geometry_parts", "repair"), (1, "geometry_invalid", "repair")]
    # left triangle: base 0.02 deg of longitude at x = 120.49 .. 120.508, right: 0.012 wide
    assert frame.geometry.iloc[0].bounds[0] == pytest.approx(120.49)


def test_overlaps_and_gaps_measured_in_metres():
    # three 100 m squares in Gauss-Kruger metres: A and B overlap by 10 m x 100 m; C leaves a
    # 20 m x 100 m gap to B, closed in by a frame so the gap is a hole of the union
    a = shapely.box(500_000, 3_400_000, 500_100, 3_400_100)
    b = shapely.box(500_090, 3_400_000, 500_190, 3_400_100)
    c = shapely.box(500_210, 3_400_000, 500_310, 3_400_100)
    lid = shapely.box(500_000, 3_400_100, 500_310, 3_400_150)
    foot = shapely.box(500_000, 3_399_950, 500_310, 3_400_000)
    frame = _frame([a, b, c, lid, foot], crs=GK).to_crs("EPSG:4326")
    findings = check_coverage(frame, GK)
    overlaps = [(f.row, f.detail["other_row"], f.detail["m2"]) for f in findings
                if f.code == "overlap"]
    assert overlaps == [(1, 2, 1000)]
    gaps = [f.detail["m2"] for f in findings if f.code == "gap"]
    assert gaps == [2000]
