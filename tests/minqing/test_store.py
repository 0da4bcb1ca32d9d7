"""The store on both backends: migrations from empty, and a geometry-bearing round trip."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import inspect, select, text

from minqing.models import Area, Base, Grid, Household, Town
from minqing.scope import Scope
from minqing.store import downgrade, get_engine, session_scope, upgrade
from tests.conftest import PG_URL, _drop_database, _new_database


def test_upgrade_from_empty_creates_every_table(empty_db_url):
    upgrade(empty_db_url)
    tables = set(inspect(get_engine(empty_db_url)).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_downgrade_then_upgrade_again(empty_db_url):
    upgrade(empty_db_url)
    downgrade(empty_db_url, "base")
    engine = get_engine(empty_db_url)
    assert "cases" not in inspect(engine).get_table_names()
    upgrade(empty_db_url)
    assert "cases" in inspect(engine).get_table_names()


def _town_grid_household(session) -> tuple[int, int, int]:
    town = Town(code="T01", name="示例镇", kind="town",
                geom=MultiPolygon([box(120.70, 30.70, 120.80, 30.80)]))
    session.add(town)
    session.flush()
    area = Area(town_id=town.id, name="一片", head_name="片长甲")
    session.add(area)
    session.flush()
    grid = Grid(code="G0001", name="示例村第1网格", town_id=town.id, area_id=area.id, kind="rural",
                geom=box(120.70, 30.70, 120.75, 30.75))
    session.add(grid)
    session.flush()
    home = Household(code="H000001", grid_id=grid.id, town_id=town.id, head_name="<b>王某</b>",
                     phone="13800000000", id_number="33040219700101001X", address="示例路1号",
                     size=3, tags="dibao,elderly_alone", lon=120.72, lat=30.72,
                     geom=Point(120.72, 30.72))
    session.add(home)
    session.flush()
    return town.id, grid.id, home.id


def test_round_trip_keeps_geometry_and_text(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        town_id, grid_id, home_id = _town_grid_household(session)
    with session_scope(engine) as session:
        town = session.get(Town, town_id)
        grid = session.get(Grid, grid_id)
        home = session.get(Household, home_id)
        assert town.geom.geom_type == "MultiPolygon"
        assert shapely.equals(grid.geom, box(120.70, 30.70, 120.75, 30.75))
        assert home.geom.equals(Point(120.72, 30.72))
        assert home.head_name == "<b>王某</b>"
        assert home.tags.split(",") == ["dibao", "elderly_alone"]


def test_scope_limits_rows(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        town_id, grid_id, _ = _town_grid_household(session)
    with session_scope(engine) as session:
        in_town = session.scalars(select(Household.id).where(Scope.town(town_id).where(Household)))
        elsewhere = session.scalars(select(Household.id).where(Scope.town(town_id + 1).where(Household)))
        by_grid = session.scalars(select(Grid.id).where(Scope.grid(grid_id).where(Grid)))
        town_of_grid = session.scalars(select(Town.id).where(Scope.grid(grid_id).where(Town)))
        assert len(list(in_town)) == 1
        assert list(elsewhere) == []
        assert list(by_grid) == [grid_id]
        assert list(town_of_grid) == [town_id]


@pytest.mark.skipif(not PG_URL, reason="MINQING_TEST_PG_URL not set (CI sets it)")
def test_postgis_stores_native_geometry(tmp_path):
    db_url = _new_database("postgis", tmp_path)
    upgrade(db_url)
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        _town_grid_household(session)
    with engine.connect() as conn:
        kind = conn.scalar(text("SELECT ST_GeometryType(geom) FROM grids"))
        srid = conn.scalar(text("SELECT ST_SRID(geom) FROM households"))
        indexed = conn.scalar(text(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'grids' AND indexdef ILIKE '%gist%'"))
    _drop_database(db_url)
    assert kind == "ST_Polygon"
    assert srid == 4326
    assert indexed == 1


def test_scope_refuses_inconsistent_ids():
    with pytest.raises(ValueError, match="needs an id"):
        Scope("town", None)
    with pytest.raises(ValueError, match="needs no id"):
        Scope("district", 3)
    assert Scope.district().narrowed_to_town(4) == Scope.town(4)
    assert Scope.grid(9).narrowed_to_town(4) == Scope.grid(9)
