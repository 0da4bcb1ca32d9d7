"""Grid imports into the store: a real county outline cut into grids in Gauss-Kruger metres,
asked-for CRSs, repairs, re-imports that move households, and all-or-nothing apply."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import func, select

from minqing.grid_import import preview_grids
from minqing.household_import import preview_households
from minqing.importer import StalePlan, apply
from minqing.layers import list_layers, restore_layer
from minqing.models import DatasetInfo, Grid, GridLayer, Household, LayerEvent, Town
from minqing.store import get_engine
from tests.importfiles import GK, GK_PREFIXED, county_grids, household_rows, write_zipped_shapefile


def _count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def _snapshot(engine) -> tuple:
    with engine.connect() as conn:
        return (conn.execute(select(Town.code, Town.name).order_by(Town.code)).all(),
                conn.execute(select(Grid.code, Grid.name, Grid.version).order_by(Grid.code)).all(),
                conn.execute(select(Household.code, Household.grid_id).order_by(Household.code)).all(),
                conn.execute(select(DatasetInfo.key, DatasetInfo.value)).all(),
                conn.execute(select(GridLayer.id, GridLayer.is_current).order_by(GridLayer.id))
                .all(),
                conn.execute(select(func.count()).select_from(LayerEvent)).scalar())


def _import_county(engine, tmp_path) -> gpd.GeoDataFrame:
    grids = county_grids()
    path = tmp_path / "county.gpkg"
    grids.to_file(path, layer="grids", driver="GPKG")
    apply(engine, preview_grids(engine, path))
    return grids


def test_county_in_gauss_kruger_without_prj_asks_then_imports(db_url, tmp_path):
    engine = get_engine(db_url)
    grids = county_grids()
    archive = write_zipped_shapefile(grids, tmp_path / "shp", crs=GK, cpg=False, prj=False)
    asked = preview_grids(engine, archive)
    assert asked.report.blocked
    assert [f.code for f in asked.report.findings if f.action == "ask"] == ["crs_ask"]
    with pytest.raises(StalePlan):
        apply(engine, asked)
    assert _count(engine, Grid) == 0

    plan = preview_grids(engine, archive, crs="EPSG:4549")
    assert not plan.report.blocked
    assert plan.report.counts["new"] == len(grids)
    assert plan.report.counts["towns_new"] == 2
    apply(engine, plan)
    with engine.connect() as conn:
        stored = conn.execute(select(Grid.code, Grid.geom).order_by(Grid.code)).all()
        towns = conn.execute(select(Town.name).order_by(Town.code)).scalars().all()
    assert towns == ["余新镇", "大桥镇"]
    assert [c for c, _ in stored] == sorted(grids["网格编码"])
    want = grids.set_index("网格编码").geometry.to_crs(GK)
    got = gpd.GeoSeries([g for _, g in stored], index=[c for c, _ in stored],
                        crs="EPSG:4326").to_crs(GK)
    assert float(got.symmetric_difference(want.loc[got.index]).area.max()) < 0.01  # m²


def test_zone_prefix_in_x_needs_no_question(db_url, tmp_path):
    engine = get_engine(db_url)
    archive = write_zipped_shapefile(county_grids(), tmp_path / "shp", crs=GK_PREFIXED,
                                     prj=False)
    plan = preview_grids(engine, archive)
    assert not plan.report.blocked
    assert plan.report.crs == "EPSG:4528"
    assert ("crs_inferred", "convert") in [(f.code, f.action) for f in plan.report.findings]


def test_row_findings_codes_duplicates_repairs_and_outside(sqlite_url, tmp_path):
    engine = get_engine(sqlite_url)
    grids = _import_county(engine, tmp_path)
    bow = shapely.Polygon([(120.70, 30.70), (120.72, 30.72), (120.72, 30.70), (120.70, 30.72)])
    extra = gpd.GeoDataFrame({
        "网格编码": ["330402101001001", "330402101001001", "A-17", "330402101009009",
                     "110101001001001", ""],
        "网格名称": [grids["网格名称"].iloc[0], "重复", "编码不规范", "自相交", "北京", "无编码"],
        "镇街": ["余新镇"] * 6,
    }, geometry=[grids.geometry.iloc[0], grids.geometry.iloc[0], grids.geometry.iloc[1], bow,
                 shapely.box(116.39, 39.90, 116.40, 39.91), grids.geometry.iloc[2]],
        crs="EPSG:4326")
    path = tmp_path / "extra.geojson"
    extra.to_file(path, driver="GeoJSON")
    report = preview_grids(engine, path).report
    rows = [(f.row, f.field, f.code, f.action) for f in report.findings if f.row is not None
            and f.code not in ("overlap", "area_new", "town_new")]
    assert rows == [
        (2, "code", "duplicate_code", "skip"),
        (3, "code", "grid_code_pattern", "keep"),
        (4, "geometry", "geometry_parts", "repair"),
        (4, "geometry", "geometry_invalid", "repair"),
        (5, "code", "grid_code_district", "keep"),
        (5, "geometry", "outside_district", "skip"),
        (6, "code", "value_empty", "skip"),
    ]
    assert report.counts["skipped"] == 3
    assert report.counts["unchanged"] == 1  # row 1 equals the stored grid
    assert any(f.code == "grids_not_in_file" for f in report.findings)


def test_reimport_moving_a_boundary_lists_the_households_that_change_grid(sqlite_url, tmp_path):
    engine = get_engine(sqlite_url)
    grids = _import_county(engine, tmp_path)
    homes = tmp_path / "homes.csv"
    household_rows(grids).to_csv(homes, index=False, encoding="gbk")
    apply(engine, preview_households(engine, homes))
    # the file swaps the outlines of the first two grids: their households change places
    changed = grids.copy()
    changed.loc[0, "geometry"], changed.loc[1, "geometry"] = grids.geometry.iloc[1], \
        grids.geometry.iloc[0]
    path = tmp_path / "changed.gpkg"
    changed.to_file(path, driver="GPKG")
    plan = preview_grids(engine, path)
    assert plan.report.counts["updated"] == 2
    a, b = grids["网格编码"].iloc[0], grids["网格编码"].iloc[1]
    assert sorted(plan.report.moved, key=lambda m: m["household"]) == [
        *({"household": f"{a}{m:04d}", "from": a, "to": b} for m in (1, 2, 3)),
        *({"household": f"{b}{m:04d}", "from": b, "to": a} for m in (1, 2, 3))]
    apply(engine, plan)
    with engine.connect() as conn:
        where = dict(conn.execute(select(Household.code, Grid.code).join(
            Grid, Grid.id == Household.grid_id)).all())
        versions = dict(conn.execute(select(Grid.code, Grid.version)).all())
    assert [where[f"{b}{m:04d}"] for m in (1, 2, 3)] == [a, a, a]
    assert [where[f"{a}{m:04d}"] for m in (1, 2, 3)] == [b, b, b]
    assert (versions[a], versions[b]) == (2, 2)


def test_failed_apply_changes_nothing(db_url, tmp_path):
    engine = get_engine(db_url)
    grids = _import_county(engine, tmp_path)
    before = _snapshot(engine)
    changed = grids.copy()
    changed["网格名称"] = changed["网格名称"] + "（新）"
    path = tmp_path / "renamed.gpkg"
    changed.to_file(path, driver="GPKG")
    plan = preview_grids(engine, path)
    real = plan.writer

    def breaks_halfway(conn, plan, actor, progress):
        real(conn, plan, actor, progress)
        raise RuntimeError("disk full")

    plan.writer = breaks_halfway
    with pytest.raises(RuntimeError):
        apply(engine, plan)
    assert _snapshot(engine) == before


def test_preview_alone_writes_nothing_and_stale_plans_are_refused(sqlite_url, tmp_path):
    engine = get_engine(sqlite_url)
    grids = _import_county(engine, tmp_path)
    before = _snapshot(engine)
    path = tmp_path / "renamed.gpkg"
    grids.assign(网格名称="改名").to_file(path, driver="GPKG")
    first = preview_grids(engine, path)
    second = preview_grids(engine, path)
    assert _snapshot(engine) == before  # previewing (then cancelling) changes nothing
    apply(engine, second)
    with pytest.raises(StalePlan):
        apply(engine, first)
    names = {n for (_, n, _) in _snapshot(engine)[1]}
    assert names == {"改名"}


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    from minqing.store import upgrade

    url = f"sqlite:///{tmp_path / 'import.db'}"
    upgrade(url)
    return url


def test_households_outside_the_new_layer_keep_their_grid(sqlite_url, tmp_path):
    engine = get_engine(sqlite_url)
    grids = _import_county(engine, tmp_path)
    homes = tmp_path / "homes.csv"
    household_rows(grids, per_grid=1).to_csv(homes, index=False)
    apply(engine, preview_households(engine, homes))
    # the file cuts a 100 m hole round grid 0's only household: it falls in no grid
    point = grids.geometry.iloc[0].representative_point()
    disc = gpd.GeoSeries([point], crs="EPSG:4326").to_crs(GK).buffer(100).to_crs(
        "EPSG:4326").iloc[0]
    holed = grids.copy()
    holed.loc[0, "geometry"] = shapely.difference(grids.geometry.iloc[0], disc)
    path = tmp_path / "holed.gpkg"
    holed.to_file(path, driver="GPKG")
    plan = preview_grids(engine, path)
    assert [f.detail for f in plan.report.findings if f.code == "households_outside_layer"] == [
        {"n": 1}]
    assert plan.report.moved == []
    apply(engine, plan)
    with engine.connect() as conn:
        grid = conn.scalar(select(Grid.code).join(Household, Household.grid_id == Grid.id)
                           .where(Household.code == f"{grids['网格编码'].iloc[0]}0001"))
    assert grid == grids["网格编码"].iloc[0]


def test_grid_import_is_a_new_layer_version_and_the_previous_is_restorable(sqlite_url, tmp_path):
    engine = get_engine(sqlite_url)
    grids = _import_county(engine, tmp_path)
    homes = tmp_path / "homes.csv"
    household_rows(grids, per_grid=1).to_csv(homes, index=False)
    apply(engine, preview_households(engine, homes))
    first = list_layers(engine)
    assert [(v.number, v.source, v.is_current, v.households) for v in first] == [
        (1, "import", True, len(grids))]
    swapped = grids.copy()
    swapped.loc[0, "geometry"], swapped.loc[1, "geometry"] = grids.geometry.iloc[1], \
        grids.geometry.iloc[0]
    path = tmp_path / "swapped.gpkg"
    swapped.to_file(path, driver="GPKG")
    apply(engine, preview_grids(engine, path), actor="数据员小王")
    layers = {v.number: v for v in list_layers(engine)}
    assert (layers[1].is_current, layers[2].is_current) == (False, True)
    assert (layers[2].source, layers[2].created_by) == ("import", "数据员小王")
    a, b = grids["网格编码"].iloc[0], grids["网格编码"].iloc[1]

    def grid_of(code):
        with engine.connect() as conn:
            return conn.scalar(select(Grid.code).join(Household, Household.grid_id == Grid.id)
                               .where(Household.code == code))

    assert (grid_of(f"{a}0001"), grid_of(f"{b}0001")) == (b, a)
    restore_layer(engine, layer_id=layers[1].id, actor="数据员小王", reason="导错了")
    assert (grid_of(f"{a}0001"), grid_of(f"{b}0001")) == (a, b)


def test_the_same_file_again_writes_nothing(sqlite_url, tmp_path):
    engine = get_engine(sqlite_url)
    _import_county(engine, tmp_path)
    before = _snapshot(engine)
    plan = preview_grids(engine, tmp_path / "county.gpkg")
    assert plan.report.counts["unchanged"] == plan.report.rows
    assert not plan.applicable
    apply(engine, plan)
    assert _snapshot(engine) == before  # no empty layer version either
    assert len(list_layers(engine)) == 1
