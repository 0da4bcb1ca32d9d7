"""The first page in Chromium with every outside request blocked."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS, wait_for_app

pytestmark = pytest.mark.browser


def test_counters_and_town_table_render_offline(page, app_url):
    page.goto(f"{app_url}/overview")
    wait_for_app(page)
    page.get_by_text("在办事项").first.wait_for()
    labels = page.locator("[data-testid='stMetricLabel']").all_inner_texts()
    for label in ("发放民情日记", "解决问题", "排查隐患", "在办事项", "超期事项"):
        assert any(label in text for text in labels), labels
    values = page.locator("[data-testid='stMetricValue']").all_inner_texts()
    assert all(re.fullmatch(r"[\d,.%]+", v.strip()) for v in values), values
    grid = page.locator("[data-testid='stDataFrame']")
    grid.wait_for()
    assert grid.bounding_box()["height"] > 100
    page.get_by_text("示例数据", exact=False).first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
    assert page.blocked_requests == []
