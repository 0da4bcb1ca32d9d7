"""Role x jurisdiction x page: every combination tries to read across its boundary by deep links
and parameters (``?town=`` of another town, a grid/case/household of another town) and gets
nothing (a plain refusal), masked data, or only the pages its role has.

Combinations: each role at each jurisdiction level it may hold (11), each placed in the first town,
its first area or that area's first grid; "inside" records lie in that grid, "outside" records in
the last town. The count of combinations tried is printed (``-s``) and asserted.
"""

from __future__ import annotations

import re
import shutil

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from minqing import accounts
from minqing.access import LEVELS, MANAGES_ACCOUNTS, READS_AUDIT, SEES_PERSONAL_DATA, Role
from minqing.models import Area, Case, Grid, Household, Town
from minqing.scope import Scope
from minqing.store import get_engine
from tests.conftest import APP, AS_OF

PHONE = re.compile(r"1[3-9]\d{9}")
ID_NUMBER = re.compile(r"\d{17}[\dX]")
COMBOS = [(role, level) for role in Role for level in LEVELS[role]]
TRIED: list[tuple] = []


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A copy of the small demo with one account per (role, level) and the records to aim at."""
    from minqing.demo import build

    path = tmp_path_factory.mktemp("matrix") / "demo.db"
    url = f"sqlite:///{path}"
    build(url, scale="small", seed=7, as_of=AS_OF, progress=False)
    engine = get_engine(url)
    with engine.connect() as conn:
        town = conn.scalar(select(Town.id).order_by(Town.code))
        other_town = conn.scalar(select(Town.id).order_by(Town.code.desc()))
        area = conn.scalar(select(Area.id).where(Area.town_id == town).order_by(Area.id))
        grid = conn.scalar(select(Grid.id).where(Grid.area_id == area).order_by(Grid.code))
        places = {"district": None, "town": town, "area": area, "grid": grid}

        def first(model, town_id, *where):
            return conn.execute(select(model).where(model.town_id == town_id, *where)
                                .order_by(model.id)).first()

        inside_home = first(Household, town, Household.grid_id == grid)
        outside_home = first(Household, other_town)
        inside_case = first(Case, town, Case.grid_id == grid)
        outside_case = first(Case, other_town)
        outside_grid = first(Grid, other_town)
    ids = {}
    for role, level in COMBOS:
        ids[(role, level)] = accounts.create_account(
            engine, by=Scope.district(), username=f"{role.value}-{level}", name=f"{role.value}",
            role=role, level=level, jurisdiction_id=places[level], password="matrix-password",
            must_change_password=False)
    engine.dispose()
    yield {"url": url, "ids": ids, "other_town": other_town, "grid": grid,
           "inside_home": inside_home, "outside_home": outside_home,
           "inside_case": inside_case, "outside_case": outside_case, "outside_grid": outside_grid}
    shutil.rmtree(path.parent, ignore_errors=True)


def _run(world, role, level, page: str | None, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state["_auth_viewer"] = accounts.account_by_id(get_engine(world["url"]),
                                                              world["ids"][(role, level)])
    if page:
        at.switch_page(page)
    for name, value in params.items():
        at.query_params[name] = str(value)
    at.run()
    assert not at.exception, (role, level, page, at.exception)
    TRIED.append((role, level, page, tuple(params.items())))
    return at


def _text(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "markdown", "caption", "warning", "info", "subheader")
             for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [d.value.to_string() for d in at.dataframe]
    return "\n".join(str(p) for p in parts)


def _titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


@pytest.mark.parametrize(("role", "level"), COMBOS, ids=[f"{r.value}-{lv}" for r, lv in COMBOS])
def test_role_jurisdiction_pages(world, monkeypatch, role, level):
    monkeypatch.setenv("MINQING_DATABASE_URL", world["url"])
    get_engine.cache_clear()
    display = role is Role.DISPLAY
    district = level == "district"
    inside, outside = world["inside_home"], world["outside_home"]

    for page in (None, "app_pages/map.py"):
        at = _run(world, role, level, page, town=world["other_town"])
        text = _text(at)
        assert not PHONE.search(text)
        assert not ID_NUMBER.search(text)

    targets = [("app_pages/grid.py", "grid", world["grid"], world["outside_grid"].id),
               ("app_pages/case.py", "case", world["inside_case"].id, world["outside_case"].id),
               ("app_pages/household.py", "household", inside.id, outside.id)]
    for page, param, inside_id, outside_id in targets:
        near = _run(world, role, level, page, **{param: inside_id})
        far = _run(world, role, level, page, **{param: outside_id})
        if display:  # no person-level page at all: the overview answers every deep link
            assert _titles(near) == _titles(far) == ["全区概览"]
            assert inside.head_name not in _text(near)
            continue
        assert not near.warning, (page, near.warning)
        if district:
            assert not far.warning, (page, [w.value for w in far.warning])
        else:
            assert far.warning
            assert "找不到" in far.warning[0].value
            assert outside.head_name not in _text(far)
            assert "您的管辖范围" in _text(far)

    home = _run(world, role, level, "app_pages/household.py", household=inside.id)
    if display:
        assert _titles(home) == ["全区概览"]
    elif role in SEES_PERSONAL_DATA:
        assert inside.head_name in _titles(home)[0]
        assert inside.phone in _text(home)
        assert inside.id_number in _text(home)
    else:
        assert inside.head_name not in _text(home)
        assert inside.phone not in _text(home)
        assert inside.id_number not in _text(home)
        assert inside.phone[-4:] in _text(home)  # masked, not hidden: 138****1234

    admin_pages = {"app_pages/accounts.py": ("账号管理", MANAGES_ACCOUNTS),
                   "app_pages/audit.py": ("审计日志", READS_AUDIT)}
    for page, (title, roles) in admin_pages.items():
        at = _run(world, role, level, page)
        assert (title in _titles(at)) == (role in roles), (page, _titles(at))


def test_count_of_combinations_tried():
    """Runs after the matrix (file order): 11 role/jurisdiction pairs x 11 page requests."""
    if not TRIED:
        pytest.skip("run with the matrix above")
    combos = {(r, lv) for r, lv, _, _ in TRIED}
    print(f"\nrole x jurisdiction x page requests tried: {len(TRIED)} "
          f"({len(combos)} role/jurisdiction pairs)")
    assert len(TRIED) == len(COMBOS) * 11
