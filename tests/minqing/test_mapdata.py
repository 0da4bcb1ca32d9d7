"""What the map reads from the store (minqing.mapdata, kpi.grid_counters) on the small demo,
checked against the records themselves; and the district map built from it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import func, select

from geo import district
from geo.assets import offline_problems, use_local_assets
from geo.basemap import resolve_basemap
from minqing import kpi, mapdata
from minqing.access import AccessDenied, Role
from minqing.models import Case, DiaryEntry, Grid, Household, Town
from minqing.scope import Scope, Viewer
from minqing.settings import Settings
from minqing.store import get_engine, session_scope
from minqing.vocab import CaseStatus, RecordKind
from tests.conftest import AS_OF
from tests.world import build_world


@pytest.fixture
def engine(demo_db_url):
    return get_engine(demo_db_url)


@pytest.fixture
def first_town(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.min(Town.id)))


def test_mask_name_keeps_only_the_family_name():
    assert mapdata.mask_name("张三丰") == "张**"
    assert mapdata.mask_name("李") == "李*"
    assert mapdata.mask_name("") == ""


def test_grid_counters_match_the_records(engine):
    counters = kpi.grid_counters(engine, scope=Scope.district(), today=AS_OF)
    with engine.connect() as conn:
        grids = conn.scalar(select(func.count()).select_from(Grid))
        households = conn.scalar(select(func.count()).select_from(Household))
        cases = conn.execute(select(Case.grid_id, Case.status, Case.deadline)).all()
        risks = conn.scalar(select(func.count()).select_from(DiaryEntry).where(
            DiaryEntry.kind == RecordKind.RISK.value,
            DiaryEntry.entry_date > AS_OF - dt.timedelta(days=90),
            DiaryEntry.entry_date <= AS_OF))
        last = dict(conn.execute(select(DiaryEntry.grid_id, func.max(DiaryEntry.entry_date))
                                 .where(DiaryEntry.entry_date <= AS_OF)
                                 .group_by(DiaryEntry.grid_id)).all())
    assert len(counters) == grids
    assert counters["households"].sum() == households
    open_cases = [c for c in cases if c.status != CaseStatus.CLOSED.value]
    assert counters["open_cases"].sum() == len(open_cases)
    assert counters["overdue_cases"].sum() == sum(  # open and due before today
        c.status != "closed" and _as_date(c.deadline) < AS_OF for c in cases)
    assert counters["risks_90d"].sum() == risks
    some_grid, its_last = next(iter(last.items()))
    assert counters.loc[some_grid, "days_since_diary"] == (AS_OF - _as_date(its_last)).days
    assert counters["open_cases"].sum() > 0


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def test_headline_counts_silent_grids(engine):
    counters = kpi.grid_counters(engine, scope=Scope.district(), today=AS_OF)
    totals = kpi.grid_headline(counters)
    # silent: no entry at all, or the last one 30 or more days ago (none in the last 30 days)
    silent = (counters["days_since_diary"].isna() | (counters["days_since_diary"] >= 30)).sum()
    assert totals["silent_grids"] == silent
    assert totals["grids"] == len(counters)


def test_queries_respect_the_scope(engine, first_town):
    scope = Scope.town(first_town)
    grids = mapdata.grid_frame(engine, scope=scope)
    assert set(grids["town_id"]) == {first_town}
    assert grids.crs.to_epsg() == 4326
    assert grids.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    homes = mapdata.household_points(engine, scope=scope)
    assert set(homes["grid_id"]) <= set(grids["grid_id"])
    assert len(homes) == mapdata.household_count(engine, scope=scope)
    cases = mapdata.open_case_points(engine, scope=scope, today=AS_OF)
    assert set(cases["grid_id"]) <= set(grids["grid_id"])
    groups = mapdata.service_groups(engine, scope=scope)
    assert set(groups["grid_id"]) <= set(grids["grid_id"])
    assert len(mapdata.town_frame(engine, scope=scope)) == 1


def test_household_names_are_masked_unless_revealed(engine, first_town):
    scope = Scope.town(first_town)
    masked = mapdata.household_points(engine, scope=scope, limit=20)
    revealed = mapdata.household_points(engine, scope=scope, limit=20, reveal_names=True)
    assert (masked["head_name"].str[1:].str.fullmatch(r"\*+")).all()
    assert (masked["head_name"].str[0] == revealed["head_name"].str[0]).all()


def test_bbox_limits_household_points(engine):
    every = mapdata.household_points(engine, scope=Scope.district())
    minx, miny = every["lon"].quantile(0.25), every["lat"].quantile(0.25)
    maxx, maxy = every["lon"].quantile(0.75), every["lat"].quantile(0.75)
    inside = mapdata.household_points(engine, scope=Scope.district(),
                                      bbox=(minx, miny, maxx, maxy))
    assert 0 < len(inside) < len(every)
    assert inside["lon"].between(minx, maxx).all()
    assert inside["lat"].between(miny, maxy).all()


def test_groups_list_leader_first_and_open_cases_flag_overdue(engine):
    groups = mapdata.service_groups(engine, scope=Scope.district())
    first = groups.iloc[0]
    assert first["members"][0] == ("leader", first["leader"])
    cases = mapdata.open_case_points(engine, scope=Scope.district(), today=AS_OF)
    expected = [s != "closed" and _as_date(d) < AS_OF for s, d in  # open, due before today
                zip(cases["status"], cases["deadline"], strict=True)]
    assert cases["overdue"].tolist() == expected
    assert (cases.loc[cases["overdue"], "days_overdue"] > 0).all()


def test_district_map_builds_offline_with_every_grid(engine):
    use_local_assets()
    source = district.MapSource(engine, scope=Scope.district(), today=AS_OF, lang="zh")
    grids = source.frames()[0]
    features = json.loads(source.base().geometry.grids_geojson)["features"]
    assert sorted(f["properties"]["g"] for f in features) == sorted(grids["grid_id"])
    built = district.district_map(source, district.MapChoice("overdue_cases", district.OVERLAYS),
                                  resolve_basemap(Settings()))
    assert len(built.classes.index) == len(grids)
    assert [layer.layer_name for layer in built.layers] == ["metric", "cell", "group", "case"]
    for layer in built.layers:
        built.map.add_child(layer)
    assert offline_problems(built.map) == []
    html = built.map.get_root().render()
    assert "mq-grid" in html
    assert "setPrefix" in html
    assert "leafletjs.com" in html


def _hand_made(url: str) -> tuple[int, int]:
    """Two towns' worth of households at hand-picked places: returns (town, other town)."""
    world = build_world(url)
    engine = get_engine(url)
    with session_scope(engine) as s:
        other = Town(code="T02", name="白水镇", kind="town",
                     geom=MultiPolygon([box(121, 30, 122, 31)]))
        s.add(other)
        s.flush()
        grid = s.get(Grid, world.grid_id)
        spots = [(120.301, 30.301, "", world.town_id), (120.302, 30.302, "dibao", world.town_id),
                 (120.309, 30.309, "", world.town_id), (120.302, 30.302, "", other.id)]
        for i, (lon, lat, tags, town_id) in enumerate(spots):
            s.add(Household(code=f"X{i}", grid_id=grid.id, town_id=town_id, head_name=f"赵{i}",
                            phone="13700000000", id_number="1" * 18, address="某路", size=2,
                            tags=tags, lon=lon, lat=lat, geom=Point(lon, lat)))
        return world.town_id, other.id


def test_households_in_a_box_are_positions_and_tags_only(db_url):
    town_id, other_id = _hand_made(db_url)
    engine = get_engine(db_url)
    box_ = (120.300, 30.300, 120.305, 30.305)
    inside = mapdata.households_in_box(engine, scope=Scope.town(town_id), box=box_, limit=10)
    assert list(inside.columns) == ["lon", "lat", "tags"]  # no name, phone, code or id
    assert sorted(zip(inside["lon"], inside["lat"], inside["tags"], strict=False)) == [
        (120.301, 30.301, ""), (120.302, 30.302, "dibao")]
    district_wide = mapdata.households_in_box(engine, scope=Scope.district(), box=box_, limit=10)
    assert len(district_wide) == 3  # the other town's household is in the box too
    assert len(mapdata.households_in_box(engine, scope=Scope.town(other_id), box=box_,
                                         limit=10)) == 1
    # "more than the limit" shows as limit + 1 rows, never the whole town
    assert len(mapdata.households_in_box(engine, scope=Scope.district(), box=box_, limit=1)) == 2


def test_the_wall_display_gets_no_household_dots(db_url):
    _hand_made(db_url)
    display = Viewer(account_id=1, username="wall", name="大屏", role=Role.DISPLAY.value)
    with pytest.raises(AccessDenied):
        mapdata.households_in_box(get_engine(db_url), scope=display.scope(),
                                  box=(120.0, 30.0, 121.0, 31.0), limit=10)
