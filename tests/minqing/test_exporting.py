"""Exports read back: the grid layer with geopandas, the Excel lists with openpyxl, masked for a
viewer who may not see personal data."""

from __future__ import annotations

import io

import geopandas as gpd
import openpyxl
import pytest
from sqlalchemy import func, select

from minqing.access import AccessDenied, mask_name, mask_phone
from minqing.audit import search
from minqing.exporting import (
    backlog_xlsx,
    grids_geojson,
    grids_gpkg,
    households_xlsx,
    rankings_xlsx,
)
from minqing.models import Grid, Household, Town
from minqing.scope import Scope
from minqing.store import get_engine
from tests.auth import viewer_for
from tests.conftest import AS_OF


def _sheet(data: bytes) -> list[tuple]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return list(wb.worksheets[0].iter_rows(values_only=True))


def _first_town(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(Town.id).order_by(Town.code).limit(1))


def test_grid_layer_as_geopackage_and_geojson_within_the_scope(demo_db_url, tmp_path):
    engine = get_engine(demo_db_url)
    town = _first_town(engine)
    with engine.connect() as conn:
        n_town = conn.scalar(select(func.count()).select_from(Grid).where(Grid.town_id == town))
        n_all = conn.scalar(select(func.count()).select_from(Grid))
        homes = conn.scalar(select(func.count()).select_from(Household)
                            .where(Household.town_id == town))
    path = tmp_path / "grids.gpkg"
    path.write_bytes(grids_gpkg(engine, scope=Scope.town(town), today=AS_OF))
    layer = gpd.read_file(path)
    assert len(layer) == n_town < n_all
    assert layer.crs.to_epsg() == 4326
    assert {"code", "name", "town", "area", "kind", "households", "open_cases",
            "overdue_cases"} <= set(layer.columns)
    assert int(layer["households"].sum()) == homes
    geojson = tmp_path / "grids.geojson"
    geojson.write_bytes(grids_geojson(engine, scope=Scope.district(), today=AS_OF))
    assert len(gpd.read_file(geojson)) == n_all


@pytest.mark.parametrize(("role", "masked"), [("data_officer", False), ("admin", True)])
def test_households_excel_masked_for_a_masked_viewer_and_audited(sqlite_demo_url, role, masked):
    engine = get_engine(sqlite_demo_url)
    town = _first_town(engine)
    scope = viewer_for(role, sqlite_demo_url).scope().narrowed_to_town(town)
    with engine.connect() as conn:
        stored = conn.execute(select(Household.code, Household.head_name, Household.phone,
                                     Household.address)
                              .where(Household.town_id == town).order_by(Household.code)).all()
    rows = _sheet(households_xlsx(engine, scope=scope, lang="en"))
    header_at = next(i for i, r in enumerate(rows) if r[0] == "Code")
    body = rows[header_at + 1:]
    assert len(body) == len(stored)
    code, name, phone, address = body[0][0], body[0][1], body[0][2], body[0][4]
    assert code == stored[0].code
    if masked:
        assert (name, phone) == (mask_name(stored[0].head_name), mask_phone(stored[0].phone))
        assert name != stored[0].head_name
        assert address != stored[0].address
        assert rows[0][0].endswith("masked")
    else:
        assert (name, phone, address) == (stored[0].head_name, stored[0].phone,
                                          stored[0].address)
    trail = search(engine, scope=Scope.district(), actions=("export",))
    assert trail.iloc[0]["target"] == "households.xlsx"
    assert f'"rows": {len(stored)}' in trail.iloc[0]["detail"]
    assert trail.iloc[0]["username"] == scope.viewer.username


def test_roles_that_do_not_move_data_cannot_export(demo_db_url):
    engine = get_engine(demo_db_url)
    scope = viewer_for("town_supervisor", demo_db_url).scope()
    with pytest.raises(AccessDenied):
        households_xlsx(engine, scope=scope)
    with pytest.raises(AccessDenied):
        grids_gpkg(engine, scope=scope)


def test_backlog_and_rankings_read_back(demo_db_url):
    engine = get_engine(demo_db_url)
    backlog = _sheet(backlog_xlsx(engine, scope=Scope.district(), today=AS_OF))
    assert backlog[1][:2] == ("编码", "事项")
    assert len(backlog) > 3
    ranks = _sheet(rankings_xlsx(engine, scope=Scope.district(), today=AS_OF))
    body = ranks[2:]
    with engine.connect() as conn:
        towns = conn.scalar(select(func.count()).select_from(Town))
    assert [r[0] for r in body] == list(range(1, towns + 1))
    rates = [r[2] for r in body]
    assert rates == sorted(rates, reverse=True)
