"""AppTest of the wall display and its address: every parameter, good and bad."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from minqing import accounts
from minqing.aggregates import HEADLINE
from minqing.kpi import KPIS, headline
from minqing.registry import town_choices
from minqing.scope import Scope
from minqing.store import get_engine
from tests.auth import viewer_for
from tests.conftest import AS_OF
from ui import display

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "display.py")


@pytest.fixture
def token(sqlite_demo_url) -> str:
    """A display link's token for the demo's display account."""
    account = viewer_for("display", sqlite_demo_url).account_id
    return accounts.create_display_token(get_engine(sqlite_demo_url), by=Scope.district(),
                                         account_id=account, label="page test")


@pytest.fixture
def app(sqlite_demo_url, token, monkeypatch) -> AppTest:
    monkeypatch.setenv("MINQING_DATABASE_URL", sqlite_demo_url)
    get_engine.cache_clear()
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["token"] = token
    return at


def _wall(at: AppTest) -> str:
    walls = [h.proto.body for h in at.get("html") if h.proto.body.startswith("<div class='mq-wall")]
    assert len(walls) == 1
    return walls[0]


def _view(html: str) -> str:
    return re.search(r"data-view='([^']+)'", html).group(1)


def _towns(url: str) -> list[tuple[int, str]]:
    return town_choices(get_engine(url), scope=Scope.district())


def test_district_first_with_the_kpi_values(app, sqlite_demo_url):
    app.run()
    assert not app.exception
    html = _wall(app)
    assert _view(html) == "district"
    totals = headline(get_engine(sqlite_demo_url), scope=Scope.district(), kpis=HEADLINE,
                      since=dt.date(2026, 1, 1), until=AS_OF, today=AS_OF)
    for key in HEADLINE:
        assert f"<div class='k'>{KPIS[key].label('zh')}</div><div class='v'>" \
               f"{KPIS[key].show(totals[key])}</div>" in html
    assert totals["open_cases"] > 0
    assert "今年以来 · 2026-01-01 至 2026-11-20" in html
    assert "示例数据" in html
    assert "全区" in html


def test_no_link_no_data(app):
    del app.query_params["token"]
    app.run()
    assert not app.exception
    html = _wall(app)
    assert _view(html) == "locked"
    assert "大屏链接" in html
    assert "<div class='v'>" not in html


def test_a_revoked_link_goes_dark(app, sqlite_demo_url, monkeypatch):
    app.run()
    assert _view(_wall(app)) == "district"
    engine = get_engine(sqlite_demo_url)
    for token_id in accounts.display_tokens(engine, scope=Scope.district())["id"]:
        accounts.revoke_display_token(engine, by=Scope.district(), token_id=int(token_id))
    monkeypatch.setattr(display, "TOKEN_RECHECK_S", 0)
    app.run()
    assert _view(_wall(app)) == "locked"


def test_each_rerun_moves_to_the_next_town_then_back(app, sqlite_demo_url):
    towns = _towns(sqlite_demo_url)
    seen = []
    for _ in range(len(towns) + 3):
        app.run()
        seen.append(_view(_wall(app)))
    ids = [f"town-{town_id}" for town_id, _ in towns]
    assert seen == ["district", *ids, "district", ids[0]]
    assert towns[0][1] in _wall(app)


def test_one_town_stays(app, sqlite_demo_url):
    town_id = _towns(sqlite_demo_url)[2][0]
    app.query_params["town"] = str(town_id)
    app.run()
    app.run()
    assert _view(_wall(app)) == f"town-{town_id}"
    assert "<div class='steps'>" not in _wall(app)


def test_bad_values_fall_back_with_a_note(app):
    app.query_params.update({"town": "999", "metric": "salaries", "dwell": "1", "theme": "neon",
                             "lang": "en"})
    app.run()
    assert not app.exception
    html = _wall(app)
    assert _view(html) == "district"
    assert "theme-dark" in html
    notes = re.search(r"<span class='notes'>(.*?)</span>", html).group(1)
    assert "town=999 is not a town" in notes
    assert "metric=salaries is not available: using Open cases" in notes
    assert "dwell=1 is not valid: 20 s per view" in notes
    assert "theme=neon is not valid" in notes
    assert "Grids coloured by Open cases" in html


def test_markup_in_the_address_is_shown_as_text(app):
    app.query_params["metric"] = "<img src=x onerror=alert(1)>"
    app.run()
    notes = re.search(r"<span class='notes'>(.*?)</span>", _wall(app)).group(1)
    assert "<img" not in notes
    assert "&lt;img src=x" in notes


def test_english_light_and_a_metric(app):
    app.query_params.update({"lang": "en", "theme": "light", "metric": "overdue_cases"})
    app.run()
    html = _wall(app)
    assert "theme-light" in html
    assert "Whole district" in html
    assert "Grids coloured by Overdue cases" in html


@pytest.mark.parametrize(("params", "expected"), [
    ({}, display.Config()),
    ({"town": "all", "dwell": "12.0"}, display.Config(dwell=12)),
    ({"town": "3", "metric": "risks_90d", "theme": "light", "lang": "en"},
     display.Config(town=3, metric="risks_90d", theme="light", lang="en")),
    ({"dwell": "3601"}, display.Config(notes=(("display.note.dwell", {"value": "3601", "default": 20}),))),
    ({"town": "三号"}, display.Config(notes=(("display.note.town", {"value": "三号"}),))),
])
def test_parse(params, expected):
    assert display.parse(params) == expected


def test_cycle_of_the_district_and_of_a_town_account():
    assert display.views(display.Config(), [4, 5]) == ([None, 4, 5], display.Config())
    assert display.views(display.Config(town=5), [4, 5])[0] == [5]
    assert display.views(display.Config(), [4], district=False)[0] == [4]  # a town's display
