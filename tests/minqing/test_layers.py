"""Grid layer versions: create, publish, restore, merge; history stays attached and counted.

Built on the tiny hand-made district of tests/world.py (one town, grids G01 and G02, households
H0..H3 alternating G01/G02 by index) plus a few diary entries and a case written here, so every
expected number below is counted by hand.
"""

from __future__ import annotations

import datetime as dt

import pytest
from shapely.geometry import box
from sqlalchemy import func, select

from minqing import layers
from minqing.errors import ConflictError, InputError
from minqing.layers import GridSpec
from minqing.models import Case, DiaryEntry, Grid, Household
from minqing.scope import Scope
from minqing.store import get_engine, session_scope
from tests.world import World, build_world

ALL = Scope.district()


@pytest.fixture
def world(db_url) -> World:
    w = build_world(db_url)
    engine = get_engine(db_url)
    with session_scope(engine) as s:
        homes = {h.code: h for h in s.scalars(select(Household))}
        day = dt.date(2026, 10, 1)
        at = dt.datetime(2026, 10, 1, 9)
        for code in ("H1", "H1", "H3"):  # H1 and H3 live in G02 (world.grid_id)
            h = homes[code]
            s.add(DiaryEntry(grid_id=h.grid_id, town_id=h.town_id, cadre_id=w.cadre_id,
                             household_id=h.id, entry_date=day, kind="demand", source="visit",
                             text="t", created_at=at))
        # a reception entry with no household, in G01
        s.add(DiaryEntry(grid_id=w.other_grid_id, town_id=w.town_id, cadre_id=w.cadre_id,
                         household_id=None, entry_date=day, kind="demand", source="reception",
                         text="t", people_received=5, created_at=at))
        s.add(Case(code="C1", grid_id=w.grid_id, town_id=w.town_id, household_id=homes["H1"].id,
                   title="t", track="immediate", status="open", opened_on=day, deadline=day,
                   responsible="x"))
    with engine.begin() as conn:
        layers.snapshot_current(conn, actor="test")
    return w


def _specs(engine, **changes) -> list[GridSpec]:
    with engine.connect() as conn:
        rows = conn.execute(select(Grid).where(Grid.active.is_(True)).order_by(Grid.code)).all()
    return [GridSpec(code=r.code, name=r.name, town_id=r.town_id, area_id=r.area_id, kind=r.kind,
                     geom=r.geom, village=r.village, grid_id=r.id) for r in rows]


def _grid_of(engine, model, **where) -> list[tuple[int, int | None]]:
    with engine.connect() as conn:
        stmt = select(model.grid_id, model.recorded_grid_id).filter_by(**where)
        return sorted(conn.execute(stmt).all(), key=lambda r: (r[0], r[1] or 0))


def _household(engine, code: str) -> Household:
    with engine.connect() as conn:
        return conn.execute(select(Household).where(Household.code == code)).one()


def test_snapshot_is_version_one_and_current(world):
    engine = get_engine(world.url)
    current = layers.current_layer(engine)
    assert (current.number, current.source, current.grids, current.households) == (1, "initial", 2, 4)
    grids = layers.layer_grids(engine, layer_id=current.id, scope=ALL)
    assert dict(zip(grids["code"], grids["households"], strict=True)) == {"G01": 2, "G02": 2}
    assignment = layers.layer_assignment(engine, layer_id=current.id, scope=ALL)
    assert len(assignment) == 4


def test_publish_moves_households_and_keeps_history(world):
    engine = get_engine(world.url)
    v1 = layers.current_layer(engine)
    h1 = _household(engine, "H1")
    # move H1 from G02 to G01; the rest keep their grids
    assignment = {_household(engine, c).id: ("G01" if c in ("H0", "H1", "H2") else "G02")
                  for c in ("H0", "H1", "H2", "H3")}
    v2 = layers.create_layer(engine, grids=_specs(engine), assignment=assignment, actor="规划员",
                             reason="平衡", source="plan")
    assert not v2.is_current
    assert layers.current_layer(engine).id == v1.id  # nothing moves before publishing
    assert _household(engine, "H1").grid_id == world.grid_id

    result = layers.publish_layer(engine, layer_id=v2.id, actor="规划员", reason="会议通过",
                                  expected_current=v1.id)
    assert (result.households_moved, result.entries_moved, result.cases_moved) == (1, 2, 1)
    assert _household(engine, "H1").grid_id == world.other_grid_id
    # H1's two entries and its case now count under G01 and remember G02
    assert _grid_of(engine, DiaryEntry, household_id=h1.id) == [
        (world.other_grid_id, world.grid_id)] * 2
    assert _grid_of(engine, Case, code="C1") == [(world.other_grid_id, world.grid_id)]
    # H3's entry did not move and has no recorded grid of its own
    assert _grid_of(engine, DiaryEntry, household_id=_household(engine, "H3").id) == [
        (world.grid_id, None)]
    with engine.connect() as conn:
        per_grid = dict(conn.execute(select(DiaryEntry.grid_id, func.count())
                                     .group_by(DiaryEntry.grid_id)).all())
        versions = dict(conn.execute(select(Grid.code, Grid.version)).all())
    assert per_grid == {world.other_grid_id: 3, world.grid_id: 1}
    assert versions == {"G01": 2, "G02": 2}  # both grids changed households
    assert layers.current_layer(engine).number == 2
    events = layers.layer_events(engine)
    assert list(events["action"][:2]) == ["publish", "create"]
    assert events["actor"].iloc[0] == "规划员"
    assert events["reason"].iloc[0] == "会议通过"


def test_restore_brings_back_the_old_assignment_and_keeps_records(world):
    engine = get_engine(world.url)
    v1 = layers.current_layer(engine)
    h1 = _household(engine, "H1")
    # every household sits at (120.15, 30.05), inside G01: by location all would go there, so the
    # others are named explicitly
    assignment = {_household(engine, c).id: g for c, g in
                  (("H0", "G01"), ("H1", "G01"), ("H2", "G01"), ("H3", "G02"))}
    v2 = layers.create_layer(engine, grids=_specs(engine), assignment=assignment,
                             actor="a", reason="r")
    layers.publish_layer(engine, layer_id=v2.id, actor="a", reason="r")
    result = layers.restore_layer(engine, layer_id=v1.id, actor="b", reason="撤回")
    assert result.households_moved == 1
    assert _household(engine, "H1").grid_id == world.grid_id
    assert _grid_of(engine, DiaryEntry, household_id=h1.id) == [(world.grid_id, world.grid_id)] * 2
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(DiaryEntry)) == 4
        assert conn.scalar(select(func.count()).select_from(Case)) == 1
    assert layers.current_layer(engine).id == v1.id
    assert layers.layer_events(engine)["action"].iloc[0] == "restore"


def test_merge_retires_a_grid_and_its_reception_entry_follows(world):
    engine = get_engine(world.url)
    _g01, g02 = _specs(engine)
    merged = GridSpec(code="G02", name="合并网格", town_id=g02.town_id, area_id=g02.area_id,
                      kind="rural", geom=box(120.1, 30, 120.3, 30.1), grid_id=g02.grid_id)
    v2 = layers.create_layer(engine, grids=[merged], actor="a", reason="r")  # all by location
    result = layers.publish_layer(engine, layer_id=v2.id, actor="a", reason="合并")
    assert result.grids_retired == [world.other_grid_id]
    with engine.connect() as conn:
        active = conn.execute(select(Grid.code, Grid.active).order_by(Grid.code)).all()
        in_scope = conn.scalars(select(Grid.code).where(ALL.where(Grid))).all()
        homes = set(conn.scalars(select(Household.grid_id)))
    assert active == [("G01", False), ("G02", True)]
    assert in_scope == ["G02"]
    assert homes == {world.grid_id}
    # the reception entry had no household: it goes to the grid that took G01's households
    reception = _grid_of(engine, DiaryEntry, source="reception")
    assert reception == [(world.grid_id, world.other_grid_id)]
    # restoring version 1 brings G01 back
    layers.restore_layer(engine, layer_id=layers.list_layers(engine)[-1].id, actor="a",
                         reason="r")
    with engine.connect() as conn:
        assert conn.scalars(select(Grid.code).where(ALL.where(Grid)).order_by(Grid.code)).all() \
            == ["G01", "G02"]


def test_new_grid_appears_only_when_published(world):
    engine = get_engine(world.url)
    g01, g02 = _specs(engine)
    new = GridSpec(code="G03", name="新网格", town_id=g01.town_id, area_id=g01.area_id,
                   kind="rural", geom=box(120.3, 30, 120.4, 30.1))
    h3 = _household(engine, "H3")
    keep = {_household(engine, c).id: g for c, g in
            (("H0", "G01"), ("H1", "G02"), ("H2", "G01"))}
    v2 = layers.create_layer(engine, grids=[g01, g02, new], assignment={**keep, h3.id: "G03"},
                             actor="a", reason="r")
    with engine.connect() as conn:
        assert conn.scalars(select(Grid.code).where(ALL.where(Grid))).all() == ["G01", "G02"]
    layers.publish_layer(engine, layer_id=v2.id, actor="a", reason="r")
    assert _household(engine, "H3").grid_id == v2.grid_ids["G03"]
    with engine.connect() as conn:
        assert sorted(conn.scalars(select(Grid.code).where(ALL.where(Grid)))) == [
            "G01", "G02", "G03"]


def test_a_stale_proposal_is_refused(world):
    engine = get_engine(world.url)
    v1 = layers.current_layer(engine)
    a = layers.create_layer(engine, grids=_specs(engine), actor="a", reason="r")
    b = layers.create_layer(engine, grids=_specs(engine), actor="b", reason="r")
    layers.publish_layer(engine, layer_id=a.id, actor="a", reason="r", expected_current=v1.id)
    with pytest.raises(ConflictError):
        layers.publish_layer(engine, layer_id=b.id, actor="b", reason="r",
                             expected_current=v1.id)
    assert layers.current_layer(engine).id == a.id


def test_bad_input_names_the_field_and_changes_nothing(world):
    engine = get_engine(world.url)
    specs = _specs(engine)
    with pytest.raises(InputError) as err:
        layers.create_layer(engine, grids=[specs[0], specs[0]], actor="a")
    assert err.value.field == "grids[1].code"
    with pytest.raises(InputError) as err:
        layers.create_layer(engine, grids=specs, assignment={1: "NOPE"}, actor="a")
    assert err.value.field == "assignment"
    with pytest.raises(InputError) as err:
        layers.create_layer(engine, grids=specs, actor=" ")
    assert err.value.field == "actor"
    v2 = layers.create_layer(engine, grids=specs, actor="a")
    with pytest.raises(InputError) as err:
        layers.publish_layer(engine, layer_id=v2.id, actor="a", reason="")
    assert err.value.field == "reason"
    assert len(layers.list_layers(engine)) == 2
    layers.drop_layer(engine, layer_id=v2.id)
    assert len(layers.list_layers(engine)) == 1
    with pytest.raises(InputError):
        layers.drop_layer(engine, layer_id=layers.current_layer(engine).id)


def test_one_town_version_carries_the_other_towns(demo_db_url):
    """On the small demo: a version made for one town keeps every other town's grids."""
    engine = get_engine(demo_db_url)
    current = layers.current_layer(engine)
    assert current is not None
    assert current.source == "initial"
    grids = layers.layer_grids(engine, layer_id=current.id, scope=ALL)
    town = int(grids["town_id"].iloc[0])
    mine = grids[grids["town_id"] == town]
    specs = [GridSpec(code=r.code, name=r.name, town_id=r.town_id, area_id=r.area_id,
                      kind=r.kind, geom=r.geom, village=r.village, grid_id=r.grid_id)
             for r in mine.itertuples()]
    draft = layers.create_layer(engine, grids=specs, actor="a", town_ids=[town])
    try:
        assert draft.grids == len(grids)
        before = layers.layer_assignment(engine, layer_id=current.id, scope=ALL)
        after = layers.layer_assignment(engine, layer_id=draft.id, scope=ALL)
        merged = before.merge(after, on="household_id", suffixes=("_before", "_after"))
        with engine.connect() as conn:
            towns = dict(conn.execute(select(Household.id, Household.town_id)).all())
        other = merged[merged["household_id"].map(towns) != town]
        assert (other["grid_id_before"] == other["grid_id_after"]).all()
        assert len(merged) == current.households
    finally:
        layers.drop_layer(engine, layer_id=draft.id)


def test_migration_makes_an_existing_district_version_one(empty_db_url):
    """A store filled before 0005: its grids get their village and become layer version 1."""
    from sqlalchemy import bindparam, text

    from minqing.geometry import Geometry
    from minqing.store import upgrade

    upgrade(empty_db_url, "0002")
    engine = get_engine(empty_db_url)
    poly = bindparam("g", type_=Geometry("POLYGON"))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO towns (id, code, name, kind, geom) VALUES "
                          "(1, 'T', '镇', 'town', :g)").bindparams(
                              bindparam("g", type_=Geometry("MULTIPOLYGON"))),
                     {"g": __import__("shapely").MultiPolygon([box(0, 0, 2, 1)])})
        conn.execute(text("INSERT INTO areas (id, town_id, name, head_name) VALUES (1, 1, 'a', 'h')"))
        conn.execute(text("INSERT INTO grids (id, code, name, town_id, area_id, kind, version, geom)"
                          " VALUES (1, 'G1', '红光村第2网格', 1, 1, 'rural', 1, :g)").bindparams(poly),
                     {"g": box(0, 0, 1, 1)})
        conn.execute(text("INSERT INTO households (id, code, grid_id, town_id, head_name, phone, "
                          "id_number, address, size, tags, lon, lat, geom) VALUES (1, 'H', 1, 1, "
                          "'n', 'p', 'i', 'a', 1, '', 0.5, 0.5, :g)").bindparams(
                              bindparam("g", type_=Geometry("POINT"))),
                     {"g": __import__("shapely").Point(0.5, 0.5)})
    engine.dispose()
    upgrade(empty_db_url)
    current = layers.current_layer(engine)
    assert (current.number, current.grids, current.households) == (1, 1, 1)
    with engine.connect() as conn:
        assert conn.execute(select(Grid.village, Grid.active)).one() == ("红光村", True)
    # the next version gets number 2 (the id sequence moved past the backfilled row)
    v2 = layers.create_layer(engine, grids=[GridSpec("G1", "n", 1, 1, "rural", box(0, 0, 1, 1),
                                                     grid_id=1)], actor="a")
    assert v2.number == 2
