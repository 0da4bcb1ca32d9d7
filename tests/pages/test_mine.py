"""AppTest of a grid cadre's start page ("my grids") over a copy of the small demo district:
their grid with a new-entry link, the open cases of that grid overdue first each with a quick
update link, the paired households; other roles keep the overview as their landing page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from minqing.cases import NewCase
from minqing.diary import NewEntry, record
from minqing.grids import cadre_choices
from minqing.models import Case, Grid, GroupMember, Household, Pairing
from minqing.scope import Scope
from minqing.store import get_engine, session_scope
from tests.auth import sign_in, viewer_for
from tests.conftest import APP

ALL = Scope.district()


@pytest.fixture
def url(sqlite_demo_url, monkeypatch) -> str:
    monkeypatch.setenv("MINQING_DATABASE_URL", sqlite_demo_url)
    get_engine.cache_clear()
    return sqlite_demo_url


def _cadre_app() -> AppTest:
    at = sign_in(AppTest.from_file(APP, default_timeout=90), "grid_cadre")
    at.run()
    assert not at.exception, at.exception
    return at


def _open_case(url: str, grid_id: int, day: dt.date, title: str) -> str:
    """Open an immediate case (3 working days) from an entry written on ``day``; its code."""
    engine = get_engine(url)
    cadre_id = cadre_choices(engine, scope=ALL, grid_id=grid_id)[0][0]
    entry = NewEntry(grid_id=grid_id, cadre_id=cadre_id, entry_date=day, kind="demand",
                     source="house_call", text=title)
    case = NewCase(grid_id=grid_id, title=title, track="immediate", responsible="李干部")
    _, case_id = record(engine, entry=entry, case=case, actor="test", today=day)
    with session_scope(engine) as s:
        return s.get(Case, case_id).code


def test_the_cadre_lands_on_their_grids(url):
    grid_id = viewer_for("grid_cadre", url).jurisdiction_id
    # today is Fri 20 Nov (tests/conftest.py): opened Mon 2 Nov, due Thu 5 Nov, so overdue;
    # opened Thu 19 Nov, due Tue 24 Nov
    fresh = _open_case(url, grid_id, dt.date(2026, 11, 19), "新开的事项")
    late = _open_case(url, grid_id, dt.date(2026, 11, 2), "逾期的事项")
    with session_scope(get_engine(url)) as s:
        grid = s.get(Grid, grid_id)
        name, code = grid.name, grid.code
        open_cases = s.scalar(select(func.count()).select_from(Case).where(
            Case.grid_id == grid_id, Case.status != "closed"))
        paired = {h for (h,) in s.execute(
            select(Household.id).join(GroupMember, GroupMember.household_id == Household.id)
            .join(Pairing, Pairing.member_id == GroupMember.id)
            .where(Household.grid_id == grid_id))}
    at = _cadre_app()
    assert at.title[0].value in ("我的网格", "My grids")
    assert any(name in m.value and code in m.value for m in at.markdown)
    new_entry = [el for el in at.get("page_link")
                 if el.proto.query_string in (f"grid={grid_id}&entry=new",
                                              f"entry=new&grid={grid_id}")]
    assert len(new_entry) == 1
    updates = [el.proto.query_string for el in at.get("page_link")
               if "update=quick" in el.proto.query_string]
    assert len(updates) == open_cases  # one tap to each open case's quick update
    cards = [m.value for m in at.caption if m.value.startswith("MQ")]
    codes = [card.split(" · ")[0].replace("\\", "") for card in cards]  # md() escapes the dash
    assert len(codes) == open_cases
    assert codes.index(late) == 0  # overdue first
    assert ":red[超期" in cards[0]  # overdue in red
    assert fresh in codes
    (households,) = at.dataframe
    assert len(households.value) == len(paired)


def test_other_roles_keep_the_overview(url):
    at = sign_in(AppTest.from_file(APP, default_timeout=90), "area_head")
    at.run()
    assert not at.exception, at.exception
    assert all(t.value not in ("我的网格", "My grids") for t in at.title)
