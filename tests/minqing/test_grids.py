"""Grid drill-down and family archive queries on both backends, the grid map's offline promise,
and the printable liaison letter's escaping."""

from __future__ import annotations

import datetime as dt

import pytest

from geo.assets import offline_problems
from geo.basemap import Basemap
from geo.grid_map import grid_map
from minqing import casebook, grids, households
from minqing.cases import NewCase, act, open_case
from minqing.diary import NewEntry, add_entry
from minqing.drilldown import grid_page
from minqing.letter import liaison_letter_html
from minqing.scope import Scope
from minqing.store import get_engine, session_scope
from tests.world import World, build_world

TODAY = dt.date(2026, 11, 20)
ALL = Scope.district()


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def _case(world: World, **overrides):
    fields = {"grid_id": world.grid_id, "title": "路灯不亮", "track": "immediate",
              "responsible": "李干部", "household_id": world.household_id}
    fields.update(overrides)
    with session_scope(get_engine(world.url)) as s:
        return open_case(s, new=NewCase(**fields), actor="李干部", today=TODAY - dt.timedelta(10))


def test_profile_counts_households_population_and_special_tags(world):
    engine = get_engine(world.url)
    profile = grids.grid_profile(engine, scope=ALL, grid_id=world.other_grid_id)
    assert (profile.town, profile.area, profile.area_head) == ("清河镇", "东片", "王片长")
    assert (profile.households, profile.population) == (2, 6)
    assert profile.special["wubao"] == 1
    assert profile.special["dibao"] == 0
    assert grids.grid_profile(engine, scope=Scope.grid(world.grid_id),
                              grid_id=world.other_grid_id) is None


def test_service_group_pairings_and_cadres(world):
    engine = get_engine(world.url)
    group = grids.service_group(engine, scope=ALL, grid_id=world.grid_id)
    assert list(group["role"]) == ["leader", "central_household"]
    pairs = grids.pairings(engine, scope=ALL, grid_id=world.grid_id)
    assert list(pairs["cadre"]) == ["赵区长"]
    assert list(pairs["member"]) == ["张1"]
    cadres = grids.cadre_choices(engine, scope=ALL, grid_id=world.grid_id)
    assert cadres[0] == (world.cadre_id, "李干部")  # the group leader first
    assert {name for _, name in cadres} == {"李干部", "赵区长"}


def test_counters_over_a_period(world):
    engine = get_engine(world.url)
    with session_scope(engine) as s:
        add_entry(s, entry=NewEntry(grid_id=world.grid_id, cadre_id=world.cadre_id,
                                    entry_date=TODAY, kind="risk", source="deputies", text="接待",
                                    people_received=12, opinions_taken=5), actor="李", today=TODAY)
    _case(world)
    keys = ["diary_entries", "risks_found", "people_received", "opinions_taken", "cases_opened",
            "problems_solved", "open_cases", "overdue_cases", "cases_due", "on_time_rate"]
    c = grids.grid_kpis(engine, scope=ALL, grid_id=world.grid_id, kpis=keys,
                        since=dt.date(2026, 1, 1), until=TODAY, today=TODAY)
    # one risk entry from a deputies' reception; one case opened 10 days ago on the immediate
    # track (3 working days), so overdue and due but not closed: on time 0 of 1
    assert [c[k] for k in keys[:-1]] == [1, 1, 12, 5, 1, 0, 1, 1, 1]
    assert c["on_time_rate"] == 0.0
    assert grids.grid_kpis(engine, scope=Scope.grid(world.other_grid_id), grid_id=world.grid_id,
                           kpis=keys, since=dt.date(2026, 1, 1), until=TODAY) is None


def test_backlog_flags_and_orders_overdue_first(world):
    engine = get_engine(world.url)
    late = _case(world, title="超期的")
    fresh = _case(world, title="新的", track="promised", promised=TODAY + dt.timedelta(days=30))
    frame = casebook.open_cases(engine, scope=Scope.town(world.town_id), today=TODAY)
    assert list(frame["id"]) == [late.id, fresh.id]
    assert list(frame["overdue"]) == [True, False]
    assert frame.iloc[0]["days_left"] == (late.deadline - TODAY).days < 0
    # opened 10 November (a Tuesday) on the 3-working-day track: due Friday 13, 7 days late
    assert list(frame["days_overdue"]) == [7, 0]
    assert frame.iloc[0]["household"] == "张1"
    assert casebook.open_cases(engine, scope=Scope.grid(world.other_grid_id), today=TODAY).empty


def test_household_archive_and_services(world):
    engine = get_engine(world.url)
    archive = households.household_archive(engine, scope=ALL, household_id=world.household_id)
    assert archive.head_name == "张1"
    assert archive.liaison_cadre["name"] == "李干部"
    assert list(archive.paired_cadres["name"]) == ["赵区长"]  # it is the central household
    assert archive.group_roles == ["central_household"]
    other = households.household_archive(engine, scope=ALL,
                                         household_id=world.other_household_id)
    assert other.tags == ["wubao"]
    assert list(other.members["name"]) == ["张0"]
    services = households.services_this_year(engine, scope=ALL,
                                             household_id=world.other_household_id, today=TODAY)
    assert list(services["description"]) == ["代办医保"]
    assert households.services_this_year(engine, scope=ALL, household_id=world.other_household_id,
                                         today=dt.date(2027, 1, 5)).empty
    assert households.household_archive(engine, scope=Scope.grid(world.grid_id),
                                        household_id=world.other_household_id) is None


def test_household_picker_searches_name_address_and_code(world):
    engine = get_engine(world.url)
    choices = households.household_choices(engine, scope=ALL, grid_id=world.grid_id)
    assert [label.split(" · ")[0] for _, label in choices] == ["张1", "张3"]
    assert len(households.household_choices(engine, scope=ALL, grid_id=world.grid_id,
                                            query="3号")) == 1


def test_grid_map_loads_nothing_from_outside(world):
    engine = get_engine(world.url)
    _case(world)
    page = grid_page(engine, scope=ALL, grid_id=world.grid_id, today=TODAY)
    m = grid_map(page.profile.geom, name="<b>网格</b>", households=page.points,
                 backlog=page.backlog, service_point=page.profile.service_point,
                 basemap=Basemap("none"), lang="zh")
    assert offline_problems(m) == []
    rendered = m.get_root().render()
    assert "<b>网格</b>" not in rendered
    assert "&lt;b&gt;网格&lt;/b&gt;" in rendered
    assert "cdn" not in rendered.lower()


def test_liaison_letter_escapes_what_was_typed(world):
    engine = get_engine(world.url)
    case = _case(world, track="liaison", department="<script>x</script>区住建局")
    act(engine, case_id=case.id, version=case.version, action="start", actor="李", today=TODAY)
    detail = casebook.case_detail(engine, scope=ALL, case_id=case.id, today=TODAY)
    html = liaison_letter_html(detail, lang="zh", issued_on=TODAY)
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;区住建局" in html
    assert detail.case["letter_no"] in html
    assert "联 系 函" in html
