"""The masking rules on hand-made values, the role policy, the viewer's scope (it only narrows),
and the package API read across the boundary by every role and jurisdiction."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from minqing import accounts, casebook, diary, grids, households, mapdata
from minqing.access import (
    LEVELS,
    SEES_PERSONAL_DATA,
    AccessDenied,
    Role,
    can_manage,
    mask_address,
    mask_id_number,
    mask_name,
    mask_phone,
    protect,
)
from minqing.models import Area, Case, Grid, Household, Town
from minqing.scope import Scope, Viewer
from minqing.store import get_engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张*"), ("张三丰", "张**"), ("李", "李*"), ("欧阳修", "欧阳*"), ("欧阳", "欧*"),
    ("司马相如", "司马**"), ("诸葛亮", "诸葛*"), (" 王五 ", "王*"), ("", ""), (None, ""),
])
def test_names_keep_the_family_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(("phone", "masked"), [
    ("13812341234", "138****1234"), ("19900001111", "199****1111"),
    ("0573-82345678", "0573-****5678"), ("057382345678", "0573****5678"),
    ("010-12345678", "010-****5678"), ("0573-8234567", "0573-***4567"),
    ("82345678", "****5678"), ("", ""),
])
def test_phones_keep_prefix_and_last_four(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(("number", "masked"), [
    ("330402199001011234", "3304**********1234"), ("33040219900101123X", "3304**********123X"),
    ("330402900101123", "3304*******1123"), ("12345", "*****"), ("", ""),
])
def test_id_numbers_keep_four_and_four(number, masked):
    assert mask_id_number(number) == masked


@pytest.mark.parametrize(("address", "masked"), [
    ("嘉兴市南湖区凤桥镇新民村张家埭12号", "嘉兴市南湖区凤桥镇新民村***"),
    ("嘉兴市南湖区建设街道南楼社区秀嘉公寓23幢4单元1601室", "嘉兴市南湖区建设街道南楼社区***"),
    ("嘉兴市南湖区余新镇12号", "嘉兴市南湖区余新镇***"),
    ("中山路12号", "***"), ("新民村", "***"), ("", ""),
])
def test_addresses_stop_at_the_village_or_community(address, masked):
    assert mask_address(address) == masked


def _viewer(role: Role, level: str = "district", jurisdiction_id: int | None = None) -> Viewer:
    return Viewer(account_id=1, username="u", name="某人", role=role.value, level=level,
                  jurisdiction_id=jurisdiction_id)


def test_protect_masks_by_role_and_leaves_missing_values():
    frame = pd.DataFrame({"head_name": ["张三", None], "phone": ["13812341234", None],
                          "size": [3, 2]})
    columns = {"head_name": "name", "phone": "phone", "absent": "name"}
    planner = protect(frame.copy(), _viewer(Role.PLANNER).scope(), columns)
    assert planner["head_name"][0] == "张*"
    assert planner["phone"][0] == "138****1234"
    assert planner[["head_name", "phone"]].iloc[1].isna().all()
    assert planner["size"].tolist() == [3, 2]
    for role in SEES_PERSONAL_DATA:
        level = LEVELS[role][0]
        scope = _viewer(role, level, None if level == "district" else 1).scope()
        assert protect(frame.copy(), scope, columns)["head_name"][0] == "张三"
    assert protect(frame.copy(), Scope.district(), columns)["phone"][0] == "13812341234"


def test_a_viewers_scope_only_narrows():
    town = _viewer(Role.TOWN_SUPERVISOR, "town", 3).scope()
    assert town.narrowed_to_town(5) == town
    assert town.narrowed_to_town(None) == town
    district = _viewer(Role.DISTRICT_SUPERVISOR).scope()
    narrowed = district.narrowed_to_town(5)
    assert (narrowed.level, narrowed.id, narrowed.viewer) == ("town", 5, district.viewer)


def test_roles_rank_for_account_management():
    assert can_manage(Role.ADMIN, Role.ADMIN)
    assert can_manage(Role.DATA_OFFICER, Role.TOWN_SUPERVISOR)
    assert not can_manage(Role.DATA_OFFICER, Role.ADMIN)
    assert not can_manage(Role.DATA_OFFICER, Role.DISTRICT_SUPERVISOR)
    assert not any(can_manage(Role.DISTRICT_SUPERVISOR, r) for r in Role)
    assert not any(can_manage(Role.DISPLAY, r) for r in Role)


def test_pages_and_ui_never_build_a_system_scope():
    """Only ``viewer.scope()`` reaches the pages: a bare Scope would see everything unmasked."""
    pattern = re.compile(r"Scope\s*\(|Scope\.(district|town|area|grid)\s*\(")
    files = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")),
             *sorted((ROOT / "ui").glob("*.py"))]
    offenders = [f"{f.name}:{n}" for f in files
                 for n, line in enumerate(f.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == []


# --- the package API across the boundary ------------------------------------------------------

COMBOS = [(role, level) for role in Role for level in LEVELS[role]]


@pytest.fixture(scope="module")
def places(demo_db_url):
    engine = get_engine(demo_db_url)
    with engine.connect() as conn:
        town = conn.scalar(select(Town.id).order_by(Town.code))
        other = conn.scalar(select(Town.id).order_by(Town.code.desc()))
        area = conn.scalar(select(Area.id).where(Area.town_id == town).order_by(Area.id))
        grid = conn.scalar(select(Grid.id).where(Grid.area_id == area).order_by(Grid.code))
        inside = conn.execute(select(Household).where(Household.grid_id == grid)
                              .order_by(Household.id)).first()
        outside = conn.execute(select(Household).where(Household.town_id == other)
                               .order_by(Household.id)).first()
        far_case = conn.scalar(select(Case.id).where(Case.town_id == other).order_by(Case.id))
        far_grid = conn.scalar(select(Grid.id).where(Grid.town_id == other).order_by(Grid.id))
    return {"district": None, "town": town, "area": area, "grid": grid, "other": other,
            "inside": inside, "outside": outside, "far_case": far_case, "far_grid": far_grid}


@pytest.mark.parametrize(("role", "level"), COMBOS, ids=[f"{r.value}-{lv}" for r, lv in COMBOS])
def test_package_api_across_the_boundary(demo_db_url, places, role, level):
    engine = get_engine(demo_db_url)
    viewer = _viewer(role, level, places[level])
    # a picker or a ?town= parameter asks for another town: a non-district viewer keeps its own
    scope = viewer.scope().narrowed_to_town(places["other"])
    inside, outside = places["inside"], places["outside"]
    if role is Role.DISPLAY:
        for read in (lambda: households.household_archive(engine, scope=scope,
                                                          household_id=inside.id),
                     lambda: casebook.open_cases(engine, scope=scope),
                     lambda: diary.timeline(engine, scope=scope),
                     lambda: mapdata.household_points(engine, scope=scope),
                     lambda: mapdata.service_groups(engine, scope=scope),
                     lambda: grids.service_group(engine, scope=scope, grid_id=places["grid"])):
            with pytest.raises(AccessDenied):
                read()
        return
    far = households.household_archive(engine, scope=viewer.scope(), household_id=outside.id)
    if level == "district":
        assert far is not None
    else:
        assert far is None
        assert casebook.case_detail(engine, scope=scope, case_id=places["far_case"]) is None
        assert grids.grid_profile(engine, scope=scope, grid_id=places["far_grid"]) is None
        assert diary.timeline(engine, scope=scope, household_id=outside.id).empty
        backlog = casebook.open_cases(engine, scope=scope)
        assert set(backlog["grid_id"]) <= {
            g for g, _ in grids.grid_choices(engine, scope=viewer.scope())}
    if level == "district":  # the picker narrowed it to the other town, where ``inside`` is not
        assert households.household_archive(engine, scope=scope, household_id=inside.id) is None
        scope = viewer.scope()
    else:
        assert scope == viewer.scope()
    near = households.household_archive(engine, scope=scope, household_id=inside.id)
    points = households.grid_household_points(engine, scope=scope, grid_id=places["grid"])
    if role in SEES_PERSONAL_DATA:
        assert (near.head_name, near.phone, near.id_number) == (
            inside.head_name, inside.phone, inside.id_number)
        assert inside.head_name in set(points["head_name"])
    else:
        assert near.head_name == mask_name(inside.head_name)
        assert near.phone == mask_phone(inside.phone)
        assert near.id_number == mask_id_number(inside.id_number)
        assert near.address == mask_address(inside.address)
        assert inside.phone not in set(points["phone"])
        assert all("*" in n for n in near.members["name"])


def test_unmasked_household_reads_are_audited(sqlite_demo_url):
    from minqing import audit

    engine = get_engine(sqlite_demo_url)
    home = households.household_choices(engine, scope=Scope.district(), grid_id=1)[0][0]
    supervisor = _viewer(Role.DISTRICT_SUPERVISOR).scope()
    planner = Viewer(account_id=2, username="p", name="p", role="planner").scope()
    households.household_archive(engine, scope=supervisor, household_id=home)
    households.household_archive(engine, scope=planner, household_id=home)  # masked: not logged
    households.household_archive(engine, scope=Scope.district(), household_id=home)
    rows = audit.search(engine, scope=Scope.district(), actions=("view_personal_data",))
    assert rows["username"].tolist() == ["u"]
    assert rows["target"].tolist() == [f"household:{home}"]


def test_jurisdiction_contains(demo_db_url, places):
    with get_engine(demo_db_url).connect() as conn:
        town, area, grid = places["town"], places["area"], places["grid"]
        assert accounts.jurisdiction_contains(conn, ("district", None), ("grid", grid))
        assert accounts.jurisdiction_contains(conn, ("town", town), ("area", area))
        assert accounts.jurisdiction_contains(conn, ("town", town), ("grid", grid))
        assert accounts.jurisdiction_contains(conn, ("area", area), ("grid", grid))
        assert not accounts.jurisdiction_contains(conn, ("town", places["other"]), ("grid", grid))
        assert not accounts.jurisdiction_contains(conn, ("grid", grid), ("area", area))
        assert not accounts.jurisdiction_contains(conn, ("town", town), ("district", None))
