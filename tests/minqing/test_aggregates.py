"""The display's aggregate-only door to the store: what it returns, what it refuses, and how it
keeps the last good values when the store cannot be read."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy.exc import OperationalError

from minqing import aggregates, casebook, diary, grids, households, kpi, mapdata
from minqing.access import AccessDenied
from minqing.aggregates import ALLOWED, LastGood, PersonalDataRefused, read_snapshot
from minqing.scope import Scope
from minqing.store import get_engine
from tests.auth import viewer_for
from tests.conftest import AS_OF
from tests.world import build_world

PERSONAL = ("张0", "张1", "张2", "张3", "李干部", "赵区长", "王片长", "13900000001",
            "13800000001", "0" * 18, "清河村1号")


@pytest.fixture
def world(db_url):
    return build_world(db_url)


def _strings(snapshot) -> list[str]:
    """Every text value anywhere in a snapshot (frames, their column names, dicts)."""
    found: list[str] = []
    for part in (snapshot.towns, snapshot.grids, snapshot.town_shapes, snapshot.grid_values,
                 *snapshot.trends.values()):
        found += [str(c) for c in part.columns]
        for col in part.columns:
            if col != "geometry" and not pd.api.types.is_numeric_dtype(part[col]):
                found += [str(v) for v in part[col]]
    found += [str(k) for k in snapshot.district]
    return found


@pytest.fixture
def display_scope(world):
    """The scope of the demo's wall-display account (role ``display``, whole district)."""
    return viewer_for("display", world.url).scope()


def test_snapshot_holds_counts_geometry_and_town_names_only(world, display_scope):
    snap = read_snapshot(get_engine(world.url), scope=display_scope, today=AS_OF)
    assert list(snap.towns["name"]) == ["清河镇"]
    row = snap.towns.iloc[0]
    assert (row["open_cases"], row["problems_solved"]) == (0, 0)  # no cases in this world
    assert pd.isna(row["on_time_rate"])  # nothing due: no rate, not 0 %
    assert snap.since == dt.date(2026, 1, 1)
    assert snap.grid_values.loc[world.grid_id, "households"] == 2  # four households, two a grid
    assert snap.grid_values.loc[world.other_grid_id, "households"] == 2
    assert set(snap.grids["grid_id"]) == {world.grid_id, world.other_grid_id}
    assert snap.grids.crs == "EPSG:4326"
    for name, frame in (("towns", snap.towns), ("grids", snap.grids),
                        ("town_shapes", snap.town_shapes), ("grid_values", snap.grid_values)):
        assert set(frame.columns) <= ALLOWED[name]
    texts = _strings(snap)
    assert "清河镇" in texts
    assert not [p for p in PERSONAL if any(p in text for text in texts)]


def test_columns_other_than_the_declared_ones_never_pass(world, monkeypatch):
    """A KPI table that grew a person column: the display takes only its declared columns."""
    real = kpi.town_table

    def leaky(*args, **kwargs):
        return real(*args, **kwargs).assign(leader="李干部")

    monkeypatch.setattr(aggregates.kpi, "town_table", leaky)
    snap = read_snapshot(get_engine(world.url), scope=Scope.district(), today=AS_OF)
    assert "leader" not in snap.towns.columns
    assert "李干部" not in _strings(snap)


def test_asking_for_a_column_off_the_list_is_refused(world, monkeypatch):
    """Even code that asks for a person column by name gets a refusal, not the column."""
    real = kpi.grid_counters

    def with_leader(*args, **kwargs):
        return real(*args, **kwargs).assign(leader="李干部")

    monkeypatch.setattr(aggregates.kpi, "grid_counters", with_leader)
    monkeypatch.setattr(aggregates, "GRID_VALUES", (*aggregates.GRID_VALUES, "leader"))
    with pytest.raises(PersonalDataRefused, match="leader"):
        read_snapshot(get_engine(world.url), scope=Scope.district(), today=AS_OF)


def test_person_level_functions_refuse_the_display(world, display_scope):
    """What the display signs in as cannot read a person, whatever it calls."""
    engine = get_engine(world.url)
    reads = [
        lambda: mapdata.household_points(engine, scope=display_scope),
        lambda: mapdata.service_groups(engine, scope=display_scope),
        lambda: mapdata.open_case_points(engine, scope=display_scope, today=AS_OF),
        lambda: households.household_archive(engine, scope=display_scope,
                                             household_id=world.household_id),
        lambda: grids.service_group(engine, scope=display_scope, grid_id=world.grid_id),
        lambda: casebook.open_cases(engine, scope=display_scope),
        lambda: diary.timeline(engine, scope=display_scope, grid_id=world.grid_id),
    ]
    for read in reads:
        with pytest.raises(AccessDenied):
            read()
    supervisor = viewer_for("district_supervisor", world.url).scope()
    assert len(mapdata.household_points(engine, scope=supervisor)) == 4  # the data is there


def test_ranking_best_first_ties_share_the_place():
    towns = pd.DataFrame({"town_id": [1, 2, 3, 4], "name": ["甲", "乙", "丙", "丁"],
                          "on_time_rate": [0.8, 0.95, 0.8, float("nan")]})
    snap = aggregates.Snapshot("v", AS_OF, dt.datetime(2026, 11, 20, 9), towns, {}, {},
                               gpd.GeoDataFrame(), gpd.GeoDataFrame(), pd.DataFrame())
    ranked = snap.ranking()
    assert list(ranked["town_id"]) == [2, 1, 3, 4]
    assert list(ranked["rank"]) == [1, 2, 2, 4]  # nothing due: no rate, last


# --- last good values ----------------------------------------------------------------------------


class FakeStore:
    """A store whose version can change and which can be switched off."""

    def __init__(self) -> None:
        self.version = "v1"
        self.down = False
        self.reads = 0

    def get_version(self) -> str:
        if self.down:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        return self.version

    def read(self, version: str, day: dt.date):
        self.reads += 1
        return aggregates.Snapshot(version, day, dt.datetime(2026, 11, 20, 9), pd.DataFrame(), {},
                                   {}, gpd.GeoDataFrame(), gpd.GeoDataFrame(), pd.DataFrame())


class Clock:
    def __init__(self) -> None:
        self.t = 0.0
        self.wall = dt.datetime(2026, 11, 20, 9, 0)

    def advance(self, seconds: float) -> None:
        self.t += seconds
        self.wall += dt.timedelta(seconds=seconds)


@pytest.fixture
def keeper():
    store, clock = FakeStore(), Clock()
    keep = LastGood(read=store.read, version=store.get_version, every_s=60, clock=lambda: clock.t,
                    today=lambda: AS_OF, now=lambda: clock.wall)
    return keep, store, clock


def test_reads_once_then_only_checks_the_version(keeper):
    keep, store, clock = keeper
    first = keep.get()
    assert first.ok
    assert first.snapshot.version == "v1"
    assert store.reads == 1
    clock.advance(30)
    assert keep.get().snapshot is first.snapshot  # not due: no check at all
    clock.advance(30)
    assert keep.get().snapshot is first.snapshot
    assert store.reads == 1
    store.version = "v2"
    clock.advance(60)
    assert keep.get().snapshot.version == "v2"
    assert store.reads == 2


def test_keeps_the_last_values_while_the_store_is_down(keeper):
    keep, store, clock = keeper
    good = keep.get()
    assert good.confirmed_at == dt.datetime(2026, 11, 20, 9, 0)
    store.down = True
    clock.advance(60)
    down = keep.get()
    assert down.snapshot is good.snapshot
    assert not down.ok
    assert down.failing_since == dt.datetime(2026, 11, 20, 9, 1)
    assert down.confirmed_at == dt.datetime(2026, 11, 20, 9, 0)  # "data as of 09:00"
    clock.advance(60)
    assert keep.get().failing_since == dt.datetime(2026, 11, 20, 9, 1)  # since the first failure
    store.down = False
    clock.advance(60)
    back = keep.get()
    assert back.ok
    assert back.confirmed_at == dt.datetime(2026, 11, 20, 9, 3)


def test_nothing_to_show_when_the_store_is_down_from_the_start(keeper):
    keep, store, _clock = keeper
    store.down = True
    reading = keep.get()
    assert reading.snapshot is None
    assert reading.failing_since is not None
    assert not reading.ok


def test_a_new_day_rereads_even_without_writes(keeper):
    keep, store, clock = keeper
    days = iter([AS_OF, AS_OF + dt.timedelta(days=1)])
    keep.today = lambda: next(days)
    keep.get()
    clock.advance(60)
    assert keep.get().snapshot.today == AS_OF + dt.timedelta(days=1)
    assert store.reads == 2
