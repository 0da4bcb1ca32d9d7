"""AppTest of the first page: counters and the town table over the small demo district."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from minqing.kpi import headline, town_table
from minqing.scope import Scope
from minqing.store import get_engine
from tests.auth import sign_in
from tests.conftest import APP, AS_OF


@pytest.fixture
def app(sqlite_demo_url, monkeypatch) -> AppTest:
    monkeypatch.setenv("MINQING_DATABASE_URL", sqlite_demo_url)
    from minqing.store import get_engine as cached

    cached.cache_clear()
    return sign_in(AppTest.from_file(APP, default_timeout=60), "district_supervisor")


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_counters_match_the_kpi_definitions(app, sqlite_demo_url):
    app.run()
    assert not app.exception
    totals = headline(get_engine(sqlite_demo_url), scope=Scope.district(), today=AS_OF)
    shown = _metrics(app)
    assert shown["在办事项"] == f"{totals['open']:,}"
    assert shown["超期事项"] == f"{totals['overdue']:,}"
    assert shown["解决问题"] == f"{totals['solved']:,}"
    assert shown["排查隐患"] == f"{totals['risks']:,}"
    assert shown["发放民情日记"] == f"{totals['diaries']:,}"
    assert totals["open"] > 0
    assert any("示例数据" in c.value for c in app.caption)


def test_town_table_lists_every_town_with_a_link(app, sqlite_demo_url):
    app.run()
    frame = app.dataframe[0].value
    towns = town_table(get_engine(sqlite_demo_url), scope=Scope.district(), today=AS_OF)
    assert list(frame["镇街"]) == list(towns["name"])
    assert list(frame["链接"]) == [f"./map?town={i}&lang=zh" for i in towns["town_id"]]


def test_town_picker_scopes_the_counters(app, sqlite_demo_url):
    app.run()
    towns = town_table(get_engine(sqlite_demo_url), scope=Scope.district(), today=AS_OF)
    first = towns.iloc[0]
    app.sidebar.selectbox[0].select(int(first.town_id)).run()
    assert list(app.dataframe[0].value["镇街"]) == [first["name"]]
    assert _metrics(app)["在办事项"] == f"{first.open:,}"


def test_english_switch(app):
    app.run()
    app.sidebar.radio[0].set_value("en").run()
    assert app.title[0].value == "District at a glance"
    assert "Open cases" in _metrics(app)


def test_deep_link_selects_the_town(app, sqlite_demo_url):
    towns = town_table(get_engine(sqlite_demo_url), scope=Scope.district(), today=AS_OF)
    last = towns.iloc[-1]
    app.query_params["town"] = str(last.town_id)
    app.run()
    assert list(app.dataframe[0].value["镇街"]) == [last["name"]]


def test_missing_database_shows_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setenv("MINQING_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "make run" in at.warning[0].value
