"""The planner over the store: bounds as data, out-of-bounds detection, proposals checked by
independent code, hand edits, Excel export, publish and restore with history kept and counted."""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
import pytest
import shapely
from openpyxl import load_workbook
from sqlalchemy import func, select

from minqing import layers, planner
from minqing.access import AccessDenied
from minqing.errors import ConflictError, InputError
from minqing.models import Case, DiaryEntry, Household, PlannerBound, Town
from minqing.scope import Scope, Viewer
from minqing.sizing import DEFAULT_BOUNDS, load_bounds, save_bound
from minqing.store import get_engine
from tests.world import build_world

ALL = Scope.district()
PLANNER = Viewer(account_id=1, username="planner", name="规划员", role="planner").scope()


def test_bounds_are_data_a_planner_can_change(db_url):
    engine = get_engine(db_url)
    assert load_bounds(engine).grid("rural") == (80, 150)
    bounds = save_bound(engine, scope=PLANNER, key="grid.rural", low=70, high=140)
    assert bounds.grid("rural") == (70, 140)
    assert bounds.grid("urban") == (100, 200)
    with engine.connect() as conn:
        assert conn.execute(select(PlannerBound.updated_by)).scalar_one() == "规划员 (planner)"
    supervisor = Viewer(account_id=2, username="t", name="t", role="town_supervisor",
                        level="town", jurisdiction_id=1).scope()
    with pytest.raises(AccessDenied):
        save_bound(engine, scope=supervisor, key="grid.rural", low=1, high=2)
    with pytest.raises(InputError) as err:
        save_bound(engine, scope=ALL, key="grid.rural", low=90, high=80)
    assert err.value.field == "high"
    with pytest.raises(InputError) as err:
        save_bound(engine, scope=ALL, key="grid.rural", low=0, high=80)
    assert err.value.field == "low"
    with pytest.raises(InputError) as err:
        save_bound(engine, scope=ALL, key="nope", low=1, high=2)
    assert err.value.field == "key"
    assert load_bounds(engine).grid("rural") == (70, 140)  # refusals changed nothing


def test_backbone_needed_by_hand():
    assert DEFAULT_BOUNDS.backbone_needed("rural", 160) == (2, 3)  # one per 50-100
    assert DEFAULT_BOUNDS.backbone_needed("urban", 150) == (1, 1)  # one per 100-200
    assert DEFAULT_BOUNDS.backbone_needed("rural", 0) == (0, 0)


def test_out_of_bounds_grids_and_short_groups_on_a_hand_made_district(db_url):
    world = build_world(db_url)
    engine = get_engine(db_url)
    bounds = save_bound(engine, scope=ALL, key="grid.rural", low=2, high=3)
    table = planner.grid_balance(engine, scope=ALL, bounds=bounds)
    rows = table.set_index("code")
    # G01 holds H0, H2; G02 holds H1, H3 and has the only group, with one central household
    assert rows.loc["G01", "households"] == 2
    assert rows.loc["G01", "deviation"] == 0
    assert rows.loc["G01", "backbone"] == 0
    assert rows.loc["G01", "backbone_deviation"] == -1  # one needed, none there
    assert rows.loc["G02", "backbone_deviation"] == 0
    bounds = save_bound(engine, scope=ALL, key="grid.rural", low=3, high=5)
    table = planner.grid_balance(engine, scope=Scope.town(world.town_id), bounds=bounds)
    assert table["deviation"].tolist() == [-1, -1]
    towns = planner.town_balance(table)
    assert towns[["out_of_bounds", "short_groups", "lower_bound"]].iloc[0].tolist() == [2, 1, 2]


@pytest.fixture(scope="module")
def proposal_and_engine(tmp_path_factory):
    """A proposal for every town of the small demo (read-only use)."""
    from minqing.demo import build
    from tests.conftest import AS_OF

    url = f"sqlite:///{tmp_path_factory.mktemp('plan') / 'demo.db'}"
    build(url, scale="small", seed=7, as_of=AS_OF, progress=False)
    engine = get_engine(url)
    with engine.connect() as conn:
        towns = conn.scalars(select(Town.id)).all()
    bounds = load_bounds(engine)
    return planner.propose(engine, scope=ALL, town_ids=towns, bounds=bounds), engine


def test_every_proposed_grid_is_in_bounds_one_piece_and_inside_its_town(proposal_and_engine):
    p, engine = proposal_and_engine
    assert p.unbalanced == []
    h = p.households
    with engine.connect() as conn:
        towns = dict(conn.execute(select(Town.id, Town.geom)).all())
    grids = p.grids.set_index("label")
    for label, n in Counter(h["after"].tolist()).items():
        row = grids.loc[label]
        lo, hi = DEFAULT_BOUNDS.grid(row["kind"])
        assert lo <= n <= hi, (row["code"], n)
        mine = h[h["after"] == label]
        assert set(mine["town_id"]) == {row["town_id"]}  # never across a town boundary
        poly = row["geom_after"]
        assert poly.geom_type == "Polygon"
        assert poly.is_valid
        assert shapely.contains_xy(poly, mine["lon"], mine["lat"]).mean() > 0.98
        assert towns[row["town_id"]].buffer(1e-7).covers(poly)
    # the grids of each town still tile it (no gaps, no overlaps beyond rounding)
    for town, geom in towns.items():
        polys = [g for g, t in zip(p.grids["geom_after"], p.grids["town_id"], strict=True)
                 if t == town and g is not None]
        assert sum(g.area for g in polys) == pytest.approx(geom.area, rel=1e-6)
        # and every border is the same line on both sides (GEOS's own coverage check)
        assert shapely.coverage_is_valid(np.array(polys, dtype=object)), town


def test_borders_that_miss_by_a_rounding_error_are_matched_and_real_overlaps_are_left():
    left = shapely.box(0, 0, 1, 1)
    near = shapely.Polygon([(1 + 1e-13, 0), (2, 0), (2, 1), (1 - 1e-13, 1)])  # a hair off
    matched = planner._edge_matched([left, None, near])
    assert matched[1] is None
    assert shapely.coverage_is_valid(np.array([matched[0], matched[2]], dtype=object))
    assert not shapely.coverage_is_valid(np.array([left, near], dtype=object))
    overlapping = shapely.box(0.5, 0, 2, 1)  # an imported layer's real overlap: not ours to fix
    assert planner._edge_matched([left, overlapping]) == [left, overlapping]


def test_the_summary_is_what_the_tables_say(proposal_and_engine):
    p, _ = proposal_and_engine
    table = planner.compare_grids(p)
    s = planner.summary(p, table)
    moved = int((p.households["before"] != p.households["after"]).sum())
    assert s.moved == moved == len(planner.moves(p))
    assert s.core_retention == pytest.approx(1 - moved / len(p.households))
    assert s.in_bounds_after == s.grids_after
    assert s.moved >= s.lower_bound > 0
    assert s.non_contiguous == 0


def test_a_hand_move_that_breaks_contiguity_is_flagged(proposal_and_engine):
    p, _ = proposal_and_engine
    table = planner.compare_grids(p)
    live = table[table["after"] > 0]
    # move one household of a grid to a grid far away in the same town
    town = int(live["town_id"].iloc[0])
    mine = live[live["town_id"] == town]
    source, target = mine.iloc[0], mine.iloc[-1]
    h = p.households
    candidates = h[h["after"] == source["label"]]
    far = candidates.iloc[0]
    edited = planner.move_households(p, [int(far["household_id"])], int(target["label"]))
    after = planner.compare_grids(edited).set_index("label")
    assert not after.loc[target["label"], "contiguous"]
    assert after.loc[target["label"], "after"] == target["after"] + 1
    assert after.loc[source["label"], "after"] == source["after"] - 1
    assert p.households.equals(h)  # the original proposal is untouched
    with pytest.raises(InputError) as err:
        planner.move_households(p, [int(far["household_id"])], 999_999)
    assert err.value.field == "to_grid"


def test_excel_export_has_the_tables_for_the_meeting(proposal_and_engine):
    p, _ = proposal_and_engine
    data = planner.export_xlsx(p, lang="zh", town_names={})
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["方案概要", "网格对比", "调整住户", "说明"]
    moves = book["调整住户"]
    assert moves.max_row == 2 + len(planner.moves(p))  # filters line, header, one row per move


def _entries_follow_households(engine) -> None:
    with engine.connect() as conn:
        wrong = conn.scalar(select(func.count()).select_from(DiaryEntry)
                            .join(Household, Household.id == DiaryEntry.household_id)
                            .where(DiaryEntry.grid_id != Household.grid_id))
        wrong_cases = conn.scalar(select(func.count()).select_from(Case)
                                  .join(Household, Household.id == Case.household_id)
                                  .where(Case.grid_id != Household.grid_id))
    assert wrong == 0
    assert wrong_cases == 0


def test_publish_and_restore_keep_diaries_and_cases_attached_and_counted(sqlite_demo_url):
    engine = get_engine(sqlite_demo_url)
    bounds = load_bounds(engine)
    towns = planner.town_balance(planner.grid_balance(engine, scope=ALL, bounds=bounds))
    town = int(towns["town_id"].iloc[0])  # the most unbalanced
    with engine.connect() as conn:
        entries_before = dict(conn.execute(select(DiaryEntry.id, DiaryEntry.grid_id)).all())
        cases_total = conn.scalar(select(func.count()).select_from(Case))
    v1 = layers.current_layer(engine)
    p = planner.propose(engine, scope=ALL, town_ids=[town], bounds=bounds)
    moved = planner.moves(p)
    assert len(moved) > 0
    result = planner.publish(engine, p, scope=PLANNER, reason="年度调整")
    assert result.households_moved == len(moved)
    _entries_follow_households(engine)
    after = planner.grid_balance(engine, scope=Scope.town(town), bounds=bounds)
    assert (after["deviation"] == 0).all()
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(DiaryEntry)) == len(entries_before)
        assert conn.scalar(select(func.count()).select_from(Case)) == cases_total
        # entries that moved remember the grid they were recorded in
        recorded = dict(conn.execute(select(DiaryEntry.id, func.coalesce(
            DiaryEntry.recorded_grid_id, DiaryEntry.grid_id))).all())
    assert recorded == entries_before
    # a second proposal made from version 1 is now stale
    with pytest.raises(ConflictError):
        planner.publish(engine, p, scope=PLANNER, reason="again")
    cadre = Viewer(account_id=3, username="c", name="c", role="grid_cadre", level="grid",
                   jurisdiction_id=1).scope()
    with pytest.raises(AccessDenied):
        planner.restore(engine, scope=cadre, layer_id=v1.id, reason="撤回")
    planner.restore(engine, scope=PLANNER, layer_id=v1.id, reason="撤回")
    with engine.connect() as conn:
        now = dict(conn.execute(select(DiaryEntry.id, DiaryEntry.grid_id)).all())
    assert now == entries_before
    _entries_follow_households(engine)
    events = layers.layer_events(engine)
    assert events["action"].tolist()[:3] == ["restore", "publish", "create"]
    assert events["actor"].tolist()[:3] == ["规划员 (planner)"] * 3


def test_cancelled_proposal_raises(proposal_and_engine):
    from geo.rebalance import Cancelled

    _, engine = proposal_and_engine
    with engine.connect() as conn:
        town = conn.scalars(select(Town.id)).first()
    with pytest.raises(Cancelled):
        planner.propose(engine, scope=ALL, town_ids=[town], bounds=DEFAULT_BOUNDS, cancel=lambda: True)


def test_locked_grids_are_untouched_by_a_proposal(proposal_and_engine):
    p, engine = proposal_and_engine
    changed = planner.compare_grids(p)
    changed = changed[changed["status"] == "changed"]
    lock = [int(changed["label"].iloc[0])]
    town = int(changed["town_id"].iloc[0])
    q = planner.propose(engine, scope=ALL, town_ids=[town], bounds=DEFAULT_BOUNDS, locked_grids=lock)
    h = q.households
    assert ((h["before"] == lock[0]) == (h["after"] == lock[0])).all()
    locked_homes = h["household_id"].iloc[:50].tolist()
    q = planner.propose(engine, scope=ALL, town_ids=[town], bounds=DEFAULT_BOUNDS,
                        locked_households=locked_homes)
    kept = q.households[q.households["household_id"].isin(locked_homes)]
    assert (kept["before"] == kept["after"]).all()
    assert np.all(q.households["locked"].to_numpy()[:50])


def test_pairings_move_inside_their_pool_and_as_few_as_the_bounds_need(db_url):
    from minqing.models import Cadre, GroupMember, Pairing, ServiceGroup
    from minqing.pairing_plan import apply_pairings, cadre_loads, propose_pairings
    from minqing.store import session_scope

    world = build_world(db_url)
    engine = get_engine(db_url)
    with engine.begin() as conn:
        layers.snapshot_current(conn, actor="test")
    with session_scope(engine) as s:
        group = s.scalars(select(ServiceGroup)).one()
        s.query(Pairing).delete()
        cadres = [Cadre(name=f"区干部{i}", phone="1", level="district", town_id=None, unit="u")
                  for i in range(3)]
        other = Cadre(name="镇干部", phone="1", level="town", town_id=world.town_id, unit="u")
        s.add_all([*cadres, other])
        members = [GroupMember(group_id=group.id, role="central_household", name=f"骨干{i}",
                               phone="1") for i in range(9)]
        s.add_all(members)
        s.flush()
        for i, m in enumerate(members):  # loads 6, 2, 1
            c = cadres[0] if i < 6 else cadres[1] if i < 8 else cadres[2]
            s.add(Pairing(cadre_id=c.id, member_id=m.id, level="district"))
        s.add(Pairing(cadre_id=other.id, member_id=members[0].id, level="town"))
        ids = [c.id for c in cadres]
    bounds = save_bound(engine, scope=ALL, key="pairing.district", low=2, high=4)
    bounds = save_bound(engine, scope=ALL, key="pairing.town", low=1, high=4)
    plan = propose_pairings(engine, scope=ALL, bounds=bounds)
    assert plan.lower_bound == 2  # excess 2 above 4, shortfall 1 below 2
    assert len(plan.moves) == 2
    assert set(plan.moves["level"]) == {"district"}  # the town cadre's pool is untouched
    assert set(plan.moves["from_cadre_id"]) == {ids[0]}
    loads = dict(zip(plan.after["cadre_id"], plan.after["load"], strict=True))
    assert [loads[i] for i in ids] == [4, 3, 2]
    assert apply_pairings(engine, plan, scope=PLANNER, reason="结对调整") == 2
    now = cadre_loads(engine, scope=ALL, bounds=bounds)
    assert (now["deviation"] == 0).all()
    assert layers.layer_events(engine)["action"].iloc[0] == "pairings"
    with pytest.raises(ConflictError):  # the plan is stale now
        apply_pairings(engine, plan, scope=PLANNER, reason="again")
    # a pool that cannot be balanced is explained and left alone
    bounds = save_bound(engine, scope=ALL, key="pairing.district", low=4, high=4)
    plan = propose_pairings(engine, scope=ALL, bounds=bounds)
    assert plan.moves.empty
    assert plan.notes[0].key == "pairing.note.pool"


def test_a_click_picks_the_nearest_household_of_the_grid(proposal_and_engine):
    p, _ = proposal_and_engine
    h = p.households
    label = int(h["after"].iloc[0])
    mine = h[h["after"] == label]
    first = mine.iloc[0]
    assert planner.household_at(p, label, lon=first["lon"], lat=first["lat"]) == int(
        first["household_id"])
    # a kilometre away from every household of the grid: nothing
    far = planner.household_at(p, label, lon=mine["lon"].max() + 0.02, lat=first["lat"])
    assert far is None


def test_the_compare_table_says_what_happens_to_a_merged_away_grids_group(proposal_and_engine):
    from minqing.models import GroupMember, ServiceGroup

    p, engine = proposal_and_engine
    table = planner.compare_grids(p)
    source = int(table[(table["after"] > 0) & (table["label"] > 0)]["label"].iloc[0])
    target = planner.neighbours(p, source)[0]
    # a hand edit that empties grid ``source`` into its neighbour: a merge
    homes = p.households.loc[p.households["after"] == source, "household_id"].tolist()
    merged = planner.move_households(p, homes, target)
    effects = planner.group_effects(engine, merged, lang="en").set_index("label")
    with engine.connect() as conn:
        members = conn.scalar(select(func.count()).select_from(GroupMember)
                              .join(ServiceGroup, ServiceGroup.id == GroupMember.group_id)
                              .where(ServiceGroup.grid_id == source))
    code = dict(zip(p.grids["label"], p.grids["code"], strict=True))
    assert members > 0
    assert effects.loc[source, "effect"] == "dissolved"
    assert effects.loc[source, "into"] == target
    assert effects.loc[source, "members_out"] == members
    assert effects.loc[source, "text"] == (f"dissolved: its {members} members join "
                                           f"{code[target]}'s group")
    data = planner.export_xlsx(merged, lang="en", town_names={}, groups=effects.reset_index())
    sheet = load_workbook(io.BytesIO(data))["Grids"]
    header = [c.value for c in sheet[2]]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=3)]
    by_code = {r[header.index("Grid code")]: r for r in rows}
    assert by_code[code[source]][header.index("Service group")] == effects.loc[source, "text"]


def test_a_town_planner_restores_their_town_and_the_other_towns_stay(sqlite_demo_url):
    import json

    engine = get_engine(sqlite_demo_url)
    bounds = load_bounds(engine)
    towns = planner.town_balance(planner.grid_balance(engine, scope=ALL, bounds=bounds))
    first, second = (int(t) for t in towns["town_id"].iloc[:2])
    v1 = layers.current_layer(engine)
    for town in (first, second):
        p = planner.propose(engine, scope=ALL, town_ids=[town], bounds=bounds)
        assert len(planner.moves(p)) > 0
        planner.publish(engine, p, scope=PLANNER, reason=f"调整 {town}")
    v3 = layers.current_layer(engine)
    with engine.connect() as conn:
        entries = conn.scalar(select(func.count()).select_from(DiaryEntry))
    mine = Viewer(account_id=5, username="tp", name="镇规划员", role="planner", level="town",
                  jurisdiction_id=first).scope()
    with pytest.raises(AccessDenied):  # a whole version spans every town
        planner.restore(engine, scope=mine, layer_id=v1.id, reason="撤回")
    with pytest.raises(AccessDenied):  # another town
        planner.restore(engine, scope=mine, layer_id=v1.id, reason="撤回", town_id=second)
    result = planner.restore(engine, scope=mine, layer_id=v1.id, reason="撤回", town_id=first)
    assert result.households_moved > 0
    # the town is back to version 1, the other town keeps version 3: read from the store
    with engine.connect() as conn:
        now = dict(conn.execute(select(Household.id, Household.grid_id)).all())
        town_of = dict(conn.execute(select(Household.id, Household.town_id)).all())
    old = layers.layer_assignment(engine, layer_id=v1.id, scope=ALL)
    kept = layers.layer_assignment(engine, layer_id=v3.id, scope=ALL)
    for frame, town in ((old, first), (kept, second)):
        expected = {h: g for h, g in zip(frame["household_id"], frame["grid_id"], strict=True)
                    if town_of[h] == town}
        assert {h: now[h] for h in expected} == expected
    _entries_follow_households(engine)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(DiaryEntry)) == entries
    current = layers.current_layer(engine)
    assert (current.number, current.source, current.parent_id) == (4, "restore", v3.id)
    events = layers.layer_events(engine)
    assert events["action"].iloc[0] == "restore"
    assert events["actor"].iloc[0] == "镇规划员 (tp)"
    data = json.loads(events["data"].iloc[0])
    assert (data["restored"], data["town"]) == (v1.number, first)
