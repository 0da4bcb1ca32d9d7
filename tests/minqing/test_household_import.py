"""Household imports: a GBK CSV with the usual defects checked row by row, web-map datums,
Excel, re-imports, and property tests that malformed rows never crash or lose stored rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from minqing.grid_import import preview_grids
from minqing.household_import import preview_households
from minqing.importer import apply, findings_frame
from minqing.models import Household
from minqing.store import get_engine, upgrade
from tests.importfiles import county_grids, household_rows, id_number


@pytest.fixture
def county(db_url, tmp_path):
    """The store with the county's grids imported (no households yet)."""
    engine = get_engine(db_url)
    grids = county_grids()
    path = tmp_path / "county.gpkg"
    grids.to_file(path, driver="GPKG")
    apply(engine, preview_grids(engine, path))
    return engine, grids


def _stored(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(
            Household.code, Household.head_name, Household.phone, Household.id_number,
            Household.size, Household.tags, Household.lon, Household.lat)).all(),
            columns=["code", "head_name", "phone", "id_number", "size", "tags", "lon",
                     "lat"]).set_index("code")


def test_gbk_csv_report_row_by_row(county, tmp_path):
    engine, grids = county
    rows = household_rows(grids, per_grid=2).head(12).copy()
    assert len(rows) == 12
    lon, lat = rows.loc[1, "经度"], rows.loc[1, "纬度"]
    rows.loc[1, ["经度", "纬度"]] = [lat, lon]  # line 3: swapped
    rows.loc[2, "户主姓名"] = ""  # line 4: no head
    rows.loc[3, "户编码"] = rows.loc[0, "户编码"]  # line 5: same code as line 2
    rows.loc[4, "联系电话"] = "12345"  # line 6
    rows.loc[5, "身份证号"] = rows.loc[5, "身份证号"][:17] + ("0" if rows.loc[5, "身份证号"][17] != "0" else "1")  # line 7
    rows.loc[6, "家庭人口"] = "abc"  # line 8
    rows.loc[7, ["经度", "纬度", "网格编码"]] = ["116.39", "39.91", ""]  # line 9: Beijing
    rows.loc[8, "经度"] = "东经120度"  # line 10: malformed, but the grid code places it
    rows.loc[9, "标签"] = "五保户、未知类"  # line 11
    rows.loc[10, "联系电话"] = "１３８００００００１２"  # line 12: full-width digits, folded
    path = tmp_path / "住户.csv"
    rows.to_csv(path, index=False, encoding="gbk")

    report = preview_households(engine, path).report
    assert report.encoding == "gb18030"
    got = [(f.row, f.field, f.code, f.action) for f in report.findings]
    assert got == [
        (3, "lon", "lonlat_swapped", "repair"),
        (4, "head_name", "value_empty", "skip"),
        (5, "code", "duplicate_code", "skip"),
        (6, "phone", "phone_malformed", "keep"),
        (7, "id_number", "id_number_malformed", "keep"),
        (8, "size", "size_malformed", "default"),
        (9, "lon", "outside_district", "skip"),
        (10, "lon", "value_malformed", "default"),
        (10, "lon", "location_from_grid", "default"),
        (11, "tags", "tag_unknown", "default"),
        (None, None, "encoding_detected", "note"),
    ]
    assert [f.detail for f in report.findings if f.code == "duplicate_code"] == [{"first_row": 2}]
    assert report.counts == {"new": 9, "updated": 0, "unchanged": 0, "skipped": 3, "moved": 0}
    table = findings_frame(report, "en")
    assert table.loc[0, "message"].startswith("Longitude and latitude swapped")
    assert table.loc[0, "action"] == "Repaired, then imported"

    apply(engine, preview_households(engine, path))
    stored = _stored(engine)
    assert len(stored) == 9
    code = rows.loc[1, "户编码"]
    assert (stored.loc[code, "lon"], stored.loc[code, "lat"]) == pytest.approx(
        (float(lon), float(lat)))
    assert stored.loc[rows.loc[6, "户编码"], "size"] == 1
    assert stored.loc[rows.loc[9, "户编码"], "tags"] == "wubao"
    assert stored.loc[rows.loc[10, "户编码"], "phone"] == "13800000012"
    placed = stored.loc[rows.loc[8, "户编码"]]
    grid = grids.set_index("网格编码").geometry.loc[rows.loc[8, "网格编码"]]
    assert grid.contains(__import__("shapely").Point(placed["lon"], placed["lat"]))


@pytest.mark.parametrize(("datum", "header"), [("gcj02", "高德"), ("bd09", None)])
def test_web_map_coordinates_converted_within_half_a_metre(county, tmp_path, datum, header):
    engine, grids = county
    rows = household_rows(grids, per_grid=1)
    lon, lat = rows["经度"].astype(float).to_numpy(), rows["纬度"].astype(float).to_numpy()
    shift = wgs84_to_gcj02 if datum == "gcj02" else wgs84_to_bd09
    s_lon, s_lat = shift(lon, lat)
    rows["经度"], rows["纬度"] = [f"{v:.8f}" for v in s_lon], [f"{v:.8f}" for v in s_lat]
    if header:
        rows = rows.rename(columns={"经度": f"经度({header})", "纬度": f"纬度({header})"})
    path = tmp_path / "web.csv"
    rows.to_csv(path, index=False, encoding="utf-8-sig")
    plan = preview_households(engine, path, datum=None if header else datum)
    assert plan.report.datum == datum
    assert plan.report.counts["new"] == len(rows)
    apply(engine, plan)
    stored = _stored(engine).loc[rows["户编码"]]
    error_m = np.hypot((stored["lon"].to_numpy() - lon) * 95_800,
                       (stored["lat"].to_numpy() - lat) * 110_900)
    assert error_m.max() < 0.5


def test_excel_with_numbers_and_a_reimport_that_updates_one_row(county, tmp_path):
    engine, grids = county
    rows = household_rows(grids, per_grid=1)
    sheet = rows.assign(联系电话=rows["联系电话"].astype(np.int64),
                        家庭人口=rows["家庭人口"].astype(int))
    path = tmp_path / "住户.xlsx"
    sheet.to_excel(path, index=False)
    first = preview_households(engine, path)
    assert [f for f in first.report.findings if f.action != "note"] == []
    apply(engine, first)
    assert _stored(engine).loc[rows["户编码"].iloc[0], "phone"] == rows["联系电话"].iloc[0]
    rows.loc[0, "联系电话"] = "13999999999"
    again = tmp_path / "again.csv"
    rows.to_csv(again, index=False)
    plan = preview_households(engine, again)
    assert plan.report.counts == {"new": 0, "updated": 1, "unchanged": len(rows) - 1,
                                  "skipped": 0, "moved": 0}
    apply(engine, plan)
    assert _stored(engine).loc[rows["户编码"].iloc[0], "phone"] == "13999999999"


def test_missing_required_column_blocks(county, tmp_path):
    engine, grids = county
    path = tmp_path / "no_name.csv"
    household_rows(grids).drop(columns=["户主姓名"]).to_csv(path, index=False)
    report = preview_households(engine, path).report
    assert report.blocked
    assert [(f.code, f.field) for f in report.findings if f.action == "ask"] == [
        ("field_missing", "head_name")]


# --- property tests -----------------------------------------------------------------------------

_CHARS = st.characters(codec="gbk", exclude_categories=("Cc", "Cs"))
_TEXT = st.text(_CHARS, max_size=12)
_NUMBERISH = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str),
                       st.integers(-10**12, 10**12).map(str), st.just(""), _TEXT)
_ROW = st.fixed_dictionaries({
    "户编码": st.one_of(st.sampled_from(["A1", "A2", "A3", "", "=1+1"]), _TEXT),
    "户主姓名": _TEXT, "联系电话": _NUMBERISH, "身份证号": st.one_of(_TEXT, st.just(id_number(3))),
    "家庭住址": st.text(_CHARS, max_size=200), "家庭人口": _NUMBERISH,
    "标签": _TEXT, "经度": st.one_of(_NUMBERISH, st.floats(120.6, 120.9).map(str)),
    "纬度": st.one_of(_NUMBERISH, st.floats(30.6, 30.9).map(str)),
    "网格编码": st.one_of(_TEXT, st.sampled_from(["330402101001001", "330402101002002"])),
})


@pytest.fixture(scope="module")
def property_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("property")
    url = f"sqlite:///{folder / 'p.db'}"
    upgrade(url)
    engine = get_engine(url)
    grids = county_grids()
    grids.to_file(folder / "county.gpkg", driver="GPKG")
    apply(engine, preview_grids(engine, folder / "county.gpkg"))
    homes = folder / "homes.csv"
    household_rows(grids).to_csv(homes, index=False)
    apply(engine, preview_households(engine, homes))
    return engine, folder


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(_ROW, min_size=1, max_size=8), encoding=st.sampled_from(["utf-8", "gbk",
                                                                              "utf-8-sig"]))
def test_malformed_rows_never_crash_nor_lose_stored_rows(property_store, rows, encoding):
    engine, folder = property_store
    before = _stored(engine)
    path = folder / "random.csv"
    pd.DataFrame(rows).to_csv(path, index=False, encoding=encoding)
    plan = preview_households(engine, path)
    assert plan.report.rows == len(rows)
    assert all(f.row is None or 2 <= f.row <= len(rows) + 1 for f in plan.report.findings)
    if not plan.report.blocked:
        apply(engine, plan)
    after = _stored(engine)
    assert set(before.index) <= set(after.index)  # nothing stored is lost
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Household)) == len(after)


def test_a_town_data_officer_imports_only_into_their_town(county, tmp_path):
    from minqing.access import AccessDenied
    from minqing.models import Town
    from minqing.scope import Viewer

    engine, grids = county
    with engine.connect() as conn:
        town = conn.scalar(select(Town.id).where(Town.name == "余新镇"))
    officer = Viewer(account_id=0, username="officer", name="officer", role="data_officer",
                     level="town", jurisdiction_id=town)
    rows = household_rows(grids, per_grid=1)
    path = tmp_path / "homes.csv"
    rows.to_csv(path, index=False)
    plan = preview_households(engine, path, scope=officer.scope())
    theirs = (grids["镇街"] == "余新镇").to_numpy()
    skipped = [f.row for f in plan.report.findings if f.code == "outside_jurisdiction"]
    assert skipped == [i + 2 for i in np.flatnonzero(~theirs)]
    assert plan.report.counts["new"] == int(theirs.sum())
    supervisor = Viewer(account_id=0, username="boss", name="boss", role="town_supervisor",
                        level="town", jurisdiction_id=town)
    with pytest.raises(AccessDenied):
        apply(engine, plan, scope=supervisor.scope())
    apply(engine, plan, scope=officer.scope())
    assert len(_stored(engine)) == int(theirs.sum())


def test_a_row_left_out_does_not_make_the_next_one_a_duplicate(county, tmp_path):
    engine, grids = county
    rows = household_rows(grids, per_grid=1).head(3).copy()
    rows.loc[1, "户编码"] = rows.loc[0, "户编码"]
    rows.loc[0, "户主姓名"] = ""  # line 2 is left out, so line 3 is the code's only row
    path = tmp_path / "homes.csv"
    rows.to_csv(path, index=False)
    report = preview_households(engine, path).report
    assert [(f.row, f.code) for f in report.findings if f.row] == [(2, "value_empty")]
    assert report.counts["new"] == 2
