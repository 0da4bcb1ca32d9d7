"""AppTest of the district map page: controls, counters, deep links (the map itself is a
component AppTest cannot draw; tests/browser/test_map.py drives it in Chromium)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo.layers import METRICS
from minqing.kpi import grid_counters, grid_headline
from minqing.scope import Scope
from minqing.store import get_engine
from tests.auth import sign_in
from tests.conftest import APP, AS_OF


@pytest.fixture
def app(sqlite_demo_url, monkeypatch) -> AppTest:
    monkeypatch.setenv("MINQING_DATABASE_URL", sqlite_demo_url)
    get_engine.cache_clear()
    at = sign_in(AppTest.from_file(APP, default_timeout=90), "district_supervisor")
    at.switch_page("app_pages/map.py")
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _metric_select(at: AppTest):
    return next(s for s in at.selectbox if s.label == "着色指标")


def test_page_shows_counters_of_the_district(app, sqlite_demo_url):
    app.run()
    assert not app.exception
    assert app.title[0].value == "一张图"
    totals = grid_headline(grid_counters(get_engine(sqlite_demo_url), scope=Scope.district(),
                                         today=AS_OF))
    shown = _metrics(app)
    assert shown["网格"] == f"{totals['grids']:,}"
    assert shown["住户"] == f"{totals['households']:,}"
    assert shown["超期事项"] == f"{totals['overdue_cases']:,}"
    assert shown["30天无日记网格"] == f"{totals['silent_grids']:,}"
    assert totals["open_cases"] > 0


def test_metric_select_offers_every_measure_and_is_linkable(app):
    app.run()
    select = _metric_select(app)
    assert select.options == [METRICS_LABELS[k] for k in METRICS]
    select.select("overdue_cases").run()
    assert not app.exception
    assert app.query_params["metric"] == "overdue_cases"
    assert any("超期事项" in m.value for m in app.markdown)  # the hot-grid list follows


def test_every_metric_and_overlay_builds(app):
    app.run()
    for metric in METRICS:
        _metric_select(app).select(metric).run()
        assert not app.exception, metric
    app.button_group[0].set_value(["households", "groups", "cases"]).run()
    assert not app.exception


def test_deep_link_picks_the_metric(app):
    app.query_params["metric"] = "risks_90d"
    app.run()
    assert _metric_select(app).value == "risks_90d"


def test_town_scope_narrows_the_counters(app, sqlite_demo_url):
    # AppTest runs a switched-to page on its own (no app.py sidebar): set what the picker sets
    town_id = _town_ids(sqlite_demo_url)[0]
    app.session_state["town_id"] = town_id
    app.run()
    assert not app.exception
    counters = grid_counters(get_engine(sqlite_demo_url), scope=Scope.town(town_id), today=AS_OF)
    assert _metrics(app)["网格"] == f"{len(counters):,}"
    assert _metrics(app)["住户"] == f"{int(counters['households'].sum()):,}"


def test_english_labels(app):
    app.session_state["lang"] = "en"
    app.run()
    assert app.title[0].value == "District map"
    assert "Colour grids by" in [s.label for s in app.selectbox]


def _town_ids(url: str) -> list[int]:
    from minqing.registry import town_choices

    return [town_id for town_id, _ in town_choices(get_engine(url), scope=Scope.district())]


METRICS_LABELS = {
    "households": "住户数", "open_cases": "在办事项", "overdue_cases": "超期事项",
    "risks_90d": "近90天排查隐患", "days_since_diary": "距上次民情日记（天）",
    "diary_30d": "近30天日记条目",
}
