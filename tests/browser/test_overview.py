"""The first page in Chromium with every outside request blocked."""

from __future__ import annotations

import re

import pytest

from minqing.registry import town_choices
from minqing.scope import Scope
from minqing.store import get_engine
from tests.browser.conftest import ARTIFACTS, wait_for_app

pytestmark = pytest.mark.browser


def test_counters_and_town_table_render_offline(page, app_url, browser_demo_url, sign_in_as):
    sign_in_as("district_supervisor")
    towns = town_choices(get_engine(browser_demo_url), scope=Scope.district())
    page.goto(app_url)
    page.wait_for_selector("[data-testid='stMetricValue']")
    wait_for_app(page)
    labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
    for label in ("发放民情日记", "解决问题", "排查隐患", "在办事项", "超期事项"):
        assert any(label in text for text in labels), labels
    values = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    assert all(re.fullmatch(r"[\d,.%]+|—", v.strip()) for v in values), values
    cells = page.locator("[data-testid='stDataFrame'] [role='gridcell']")
    cells.first.wait_for(state="attached")
    texts = cells.all_text_contents()
    for town_id, name in towns:
        assert name in texts
        assert f"./map?town={town_id}&lang=zh" in texts
    assert page.get_by_text("示例数据", exact=False).count() >= 1
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
    assert page.blocked_requests == []


def test_english_switch_in_the_browser(page, app_url, sign_in_as):
    sign_in_as("district_supervisor")
    page.goto(f"{app_url}/?lang=en")
    page.wait_for_selector("[data-testid='stMetricValue']")
    wait_for_app(page)
    assert page.locator("h1").first.inner_text() == "District at a glance"
    assert "Open cases" in page.locator("[data-testid='stMetricLabel']").all_inner_texts()
    assert page.blocked_requests == []
