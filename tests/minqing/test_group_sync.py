"""Service groups follow a published grid layer version (minqing.group_sync): a merged-away
grid's group is dissolved into its heir's with its people kept, restore gives them back, backbone
members follow their household, and a new grid gets a group.

Built on tests/world.py (grids G01 and G02; households H0..H3 alternate G01/G02; G02's group has
the leader cadre and H1 as central household, paired with a district cadre) plus a group for G01
written here. Every check reads the tables directly.
"""

from __future__ import annotations

import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import func, select

from minqing import group_sync, layers
from minqing.layers import GridSpec
from minqing.models import Cadre, Grid, GroupMember, Household, Pairing, ServiceGroup
from minqing.store import get_engine, session_scope
from tests.world import World, build_world


@pytest.fixture
def world(db_url) -> World:
    w = build_world(db_url)
    engine = get_engine(db_url)
    with session_scope(engine) as s:
        cadre = Cadre(name="周干部", phone="13800000002", level="village", town_id=w.town_id,
                      unit="清河村")
        s.add(cadre)
        s.flush()
        group = ServiceGroup(grid_id=w.other_grid_id, leader_cadre_id=cadre.id, lon=120.15,
                             lat=30.05)
        s.add(group)
        s.flush()
        s.add_all([GroupMember(group_id=group.id, role="leader", name=cadre.name,
                               phone=cadre.phone, cadre_id=cadre.id),
                   GroupMember(group_id=group.id, role="police", name="民警", phone="110")])
    with engine.begin() as conn:
        layers.snapshot_current(conn, actor="test")
    return w


def _members(engine) -> dict[str, set[str]]:
    """Grid code -> names of its group's members, for the grids that are active."""
    with engine.connect() as conn:
        rows = conn.execute(select(Grid.code, GroupMember.name)
                            .join(ServiceGroup, ServiceGroup.grid_id == Grid.id)
                            .join(GroupMember, GroupMember.group_id == ServiceGroup.id)
                            .where(Grid.active.is_(True))).all()
    out: dict[str, set[str]] = {}
    for code, name in rows:
        out.setdefault(code, set()).add(name)
    return out


def _ids(engine, *codes: str) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Household.code, Household.id)
                                 .where(Household.code.in_(codes))).all())


def _specs(engine) -> list[GridSpec]:
    with engine.connect() as conn:
        rows = conn.execute(select(Grid).where(Grid.active.is_(True)).order_by(Grid.code)).all()
    return [GridSpec(code=r.code, name=r.name, town_id=r.town_id, area_id=r.area_id, kind=r.kind,
                     geom=r.geom, village=r.village, grid_id=r.id) for r in rows]


def _count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def test_a_merged_away_grid_dissolves_its_group_into_the_heirs_and_restore_gives_it_back(world):
    engine = get_engine(world.url)
    v1 = layers.current_layer(engine)
    before = _members(engine)
    assert before == {"G01": {"周干部", "民警"}, "G02": {"李干部", "张1"}}
    members, pairings = _count(engine, GroupMember), _count(engine, Pairing)
    g01, _g02 = _specs(engine)
    merged = GridSpec(code="G01", name="合并网格", town_id=g01.town_id, area_id=g01.area_id,
                      kind="rural", geom=box(120.1, 30, 120.3, 30.1), grid_id=g01.grid_id)
    homes = _ids(engine, "H0", "H1", "H2", "H3")
    v2 = layers.create_layer(engine, grids=[merged], assignment=dict.fromkeys(homes.values(),
                                                                              "G01"),
                             actor="a", reason="合并")
    result = layers.publish_layer(engine, layer_id=v2.id, actor="a", reason="合并")
    assert result.grids_retired == [world.grid_id]
    # everyone of G02's group now serves in G01's: the cadre, and H1 (its household moved)
    assert _members(engine) == {"G01": {"周干部", "民警", "李干部", "张1"}}
    assert (_count(engine, GroupMember), _count(engine, Pairing)) == (members, pairings)
    with engine.connect() as conn:
        left = conn.scalar(select(func.count()).select_from(GroupMember)
                           .join(ServiceGroup, ServiceGroup.id == GroupMember.group_id)
                           .where(ServiceGroup.grid_id == world.grid_id))
        paired = conn.scalar(select(GroupMember.name).join(Pairing,
                                                           Pairing.member_id == GroupMember.id))
    assert left == 0  # the dissolved group is empty, kept on the inactive grid as history
    assert paired == "张1"  # the pairing followed its member
    dissolved = result.groups["dissolved"]
    assert [(d["grid"], d["into_grid"]) for d in dissolved] == [(world.grid_id,
                                                                world.other_grid_id)]
    assert result.groups["backbone"] == 1
    # the event says so too
    assert '"dissolved"' in layers.layer_events(engine)["data"].iloc[0]

    back = layers.restore_layer(engine, layer_id=v1.id, actor="b", reason="撤回")
    assert back.grids_added == [world.grid_id]
    assert _members(engine) == before
    assert [r["grid"] for r in back.groups["returned"]] == [world.grid_id]
    assert (_count(engine, GroupMember), _count(engine, Pairing)) == (members, pairings)


def test_a_backbone_member_whose_household_moves_joins_the_new_grids_group(world):
    engine = get_engine(world.url)
    v1 = layers.current_layer(engine)
    homes = _ids(engine, "H0", "H1", "H2", "H3")
    # H1, G02's central household, moves to G01
    assignment = {homes["H0"]: "G01", homes["H1"]: "G01", homes["H2"]: "G01",
                  homes["H3"]: "G02"}
    v2 = layers.create_layer(engine, grids=_specs(engine), assignment=assignment, actor="a",
                             reason="r")
    result = layers.publish_layer(engine, layer_id=v2.id, actor="a", reason="r")
    assert result.groups["backbone"] == 1
    assert _members(engine) == {"G01": {"周干部", "民警", "张1"}, "G02": {"李干部"}}
    layers.restore_layer(engine, layer_id=v1.id, actor="a", reason="r")
    assert _members(engine) == {"G01": {"周干部", "民警"}, "G02": {"李干部", "张1"}}


def test_a_new_grid_gets_a_group_led_by_the_leader_of_the_grid_it_came_from(world):
    engine = get_engine(world.url)
    v1 = layers.current_layer(engine)
    g01, g02 = _specs(engine)
    new = GridSpec(code="G03", name="新网格", town_id=g02.town_id, area_id=g02.area_id,
                   kind="rural", geom=box(120.3, 30, 120.4, 30.1))
    homes = _ids(engine, "H0", "H1", "H2", "H3")
    # G02's households (H1 the central household, H3) go to the new grid G03
    assignment = {homes["H0"]: "G01", homes["H2"]: "G01", homes["H1"]: "G03",
                  homes["H3"]: "G03"}
    v2 = layers.create_layer(engine, grids=[g01, g02, new], assignment=assignment, actor="a",
                             reason="r")
    result = layers.publish_layer(engine, layer_id=v2.id, actor="a", reason="拆分")
    with engine.connect() as conn:
        g03 = conn.scalar(select(Grid.id).where(Grid.code == "G03"))
        leader = conn.scalar(select(Cadre.name).join(
            ServiceGroup, ServiceGroup.leader_cadre_id == Cadre.id)
            .where(ServiceGroup.grid_id == g03))
    assert leader == "李干部"  # G02's leader, until the town names one
    assert [c["grid"] for c in result.groups["created"]] == [g03]
    assert _members(engine)["G03"] == {"张1"}  # the central household followed H1
    layers.restore_layer(engine, layer_id=v1.id, actor="a", reason="r")
    assert _members(engine) == {"G01": {"周干部", "民警"}, "G02": {"李干部", "张1"}}


def test_an_heir_without_a_group_takes_the_whole_group_and_gives_it_back(db_url):
    world = build_world(db_url)  # only G02 has a group
    engine = get_engine(db_url)
    with engine.begin() as conn:
        layers.snapshot_current(conn, actor="test")
    v1 = layers.current_layer(engine)
    g01, _ = _specs(engine)
    homes = _ids(engine, "H0", "H1", "H2", "H3")
    v2 = layers.create_layer(engine, grids=[g01], assignment=dict.fromkeys(homes.values(), "G01"),
                             actor="a", reason="r")
    layers.publish_layer(engine, layer_id=v2.id, actor="a", reason="r")
    assert _members(engine) == {"G01": {"李干部", "张1"}}
    layers.restore_layer(engine, layer_id=v1.id, actor="a", reason="r")
    assert _members(engine) == {"G02": {"李干部", "张1"}}
    with engine.connect() as conn:
        assert conn.scalar(select(ServiceGroup.grid_id)) == world.grid_id


def test_the_preview_says_what_publishing_does_to_the_groups(world):
    engine = get_engine(world.url)
    homes = _ids(engine, "H0", "H1", "H2", "H3")
    households = pd.DataFrame({
        "household_id": [homes[c] for c in ("H0", "H1", "H2", "H3")],
        "before": [world.other_grid_id, world.grid_id, world.other_grid_id, world.grid_id],
        "after": [world.other_grid_id, world.other_grid_id, -1, world.other_grid_id],
    })
    labels = pd.DataFrame({"label": [world.other_grid_id, world.grid_id, -1],
                           "retired": [False, True, False]})
    out = group_sync.preview(engine, households=households, labels=labels).set_index("label")
    assert out.loc[world.grid_id, "effect"] == "dissolved"
    assert out.loc[world.grid_id, "into"] == world.other_grid_id  # G01 took H1 and H3
    assert out.loc[world.grid_id, "members_out"] == 2
    assert out.loc[-1, "effect"] == "created"
    assert out.loc[-1, "into"] == world.other_grid_id  # H2 came from G01: led by its leader
    assert out.loc[world.other_grid_id, "effect"] == "changed"
    assert out.loc[world.other_grid_id, "backbone_in"] == 1  # H1 is a central household
