"""The overview, the district map and the grid page show the same KPI values for the same scope
and period, and those are the values counted by hand in tests/kpi_world.py.

乙街道 has one grid, G3, so the town's overview, the town's map and G3's grid page cover the same
records; 甲镇's overview and map are compared as well.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from minqing.kpi import KPIS
from tests.kpi_world import EXPECTED
from tests.pages.conftest import kpi_app


def _metrics(at: AppTest) -> dict[str, str]:
    assert not at.exception, at.exception
    return {m.label: m.value for m in at.metric}


def _shown(key: str, value: float | None) -> str:
    """How a hand-counted value is written on screen."""
    if value is None:
        return "—"
    return f"{value:.1%}" if KPIS[key].is_rate else f"{int(value):,}"


def _overview(town_id: int) -> dict[str, str]:
    at = kpi_app()
    at.run()
    at.sidebar.selectbox[0].select(town_id).run()
    return _metrics(at)


def _map(town_id: int) -> dict[str, str]:
    at = kpi_app("app_pages/map.py", town=str(town_id))
    at.run()
    return _metrics(at)


def _grid(grid_id: int) -> dict[str, str]:
    at = kpi_app("app_pages/grid.py", grid=str(grid_id))
    at.run()
    return _metrics(at)


def test_one_town_one_grid_same_numbers_on_all_three_pages(kpi_world):
    ids, hand = kpi_world.ids, EXPECTED["乙街道"]
    overview, town_map, grid = _overview(ids["T2"]), _map(ids["T2"]), _grid(ids["G3"])
    for key in ("open_cases", "overdue_cases"):
        label, value = KPIS[key].label("zh"), _shown(key, hand[key])
        assert (overview[label], town_map[label], grid[label]) == (value, value, value), key
    for key in ("diary_entries", "cases_opened", "problems_solved", "on_time_rate"):
        label, value = KPIS[key].label("zh"), _shown(key, hand[key])
        if label in overview:  # the overview leaves "cases opened" to the trend
            assert overview[label] == value, key
        assert grid[label] == value, key
    assert overview["按期办结率"] == grid["按期办结率"] == "0.0%"
    assert town_map["30天无日记网格"] == overview["30天无日记网格"] == "1"


@pytest.mark.parametrize("key", ["open_cases", "overdue_cases", "households"])
def test_a_town_on_the_overview_and_the_map(kpi_world, key):
    ids, hand = kpi_world.ids, EXPECTED["甲镇"]
    label = KPIS[key].label("zh")
    town_map = _map(ids["T1"])
    assert town_map[label] == _shown(key, hand[key])
    overview = _overview(ids["T1"])
    if label in overview:
        assert overview[label] == town_map[label]
