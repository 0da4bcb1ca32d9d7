"""AppTest of the district map page: controls, counters, deep links (the map itself is a
component AppTest cannot draw; tests/browser/test_map.py drives it in Chromium)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geo.style import METRICS
from minqing.scope import Scope
from minqing.store import get_engine
from tests.auth import sign_in
from tests.conftest import APP
from tests.pages.conftest import kpi_app


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


def test_page_shows_the_hand_counted_district(kpi_world):
    """tests/kpi_world.py: 3 grids, 3 households, open c3 c4 c6 c8, overdue c3 c6, risk entries
    e2 e3 e5 within 90 days, G3 silent (its last entry 30 days ago)."""
    at = kpi_app("app_pages/map.py")
    at.run()
    assert not at.exception
    assert app_title(at) == "一张图"
    shown = _metrics(at)
    assert (shown["网格"], shown["住户"], shown["在办事项"], shown["超期事项"]) == ("3", "3", "4", "2")
    assert (shown["近90天排查隐患"], shown["30天无日记网格"]) == ("3", "1")


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


def test_the_whole_state_comes_from_the_link_and_stays_in_it(app, sqlite_demo_url):
    town_id = _town_ids(sqlite_demo_url)[1]
    app.query_params.update({"town": str(town_id), "metric": "overdue_cases",
                             "layers": "cases,households", "view": "30.75431,120.81234,16"})
    app.session_state["town_id"] = town_id  # what app.py's picker does with ?town=
    app.run()
    assert not app.exception
    assert _metric_select(app).value == "overdue_cases"
    assert list(app.button_group[0].value) == ["households", "cases"]
    assert app.query_params["metric"] == "overdue_cases"
    assert app.query_params["layers"] == "households,cases"
    assert app.query_params["view"] == "30.75431,120.81234,16"


def test_switching_overlays_writes_them_into_the_link(app):
    app.run()
    assert "layers" not in app.query_params
    app.button_group[0].set_value(["groups", "households"]).run()
    assert not app.exception
    assert app.query_params["layers"] == "households,groups"
    app.button_group[0].set_value([]).run()
    assert "layers" not in app.query_params


def test_a_bad_link_falls_back_to_the_defaults(app):
    app.query_params.update({"metric": "<b>x</b>", "layers": "nope", "view": "1e999,2,3"})
    app.run()
    assert not app.exception
    assert _metric_select(app).value == "households"
    assert list(app.button_group[0].value) == []


def test_town_scope_narrows_the_counters(kpi_world):
    at = kpi_app("app_pages/map.py")
    # AppTest runs a switched-to page on its own (no app.py sidebar): set what the picker sets
    at.session_state["town_id"] = kpi_world.ids["T2"]
    at.run()
    assert not at.exception
    shown = _metrics(at)  # 乙街道: G3 only, no households, c6 open and overdue
    assert (shown["网格"], shown["住户"], shown["在办事项"], shown["超期事项"]) == ("1", "0", "1", "1")


def test_english_labels(app):
    app.session_state["lang"] = "en"
    app.run()
    assert app.title[0].value == "District map"
    assert "Colour grids by" in [s.label for s in app.selectbox]


def app_title(at: AppTest) -> str:
    return at.title[0].value


METRICS_LABELS = {
    "households": "住户数", "open_cases": "在办事项", "overdue_cases": "超期事项",
    "risks_90d": "近90天排查隐患", "days_since_diary": "距上次民情日记（天）",
    "diary_30d": "近30天日记条目",
}


def _town_ids(url: str) -> list[int]:
    from minqing.registry import town_choices

    return [town_id for town_id, _ in town_choices(get_engine(url), scope=Scope.district())]
