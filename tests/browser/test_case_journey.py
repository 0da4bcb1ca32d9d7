"""A supervisor's journey in Chromium, offline: open a grid from the map, write a diary entry and
turn it into a case, move the case along its track, close it with the resident's feedback, and see
it leave the grid's backlog; every step is recorded as the signed-in account. Every request
leaving localhost is blocked and must not happen."""

from __future__ import annotations

import re

import pytest

from minqing.registry import town_choices
from minqing.scope import Scope
from minqing.store import get_engine
from tests.auth import viewer_for
from tests.browser.conftest import ARTIFACTS, wait_for_app

pytestmark = pytest.mark.browser

ENTRY = "浏览器测试：村口排水沟堵塞，雨天积水进户"
TITLE = "浏览器测试：疏通村口排水沟"


def _settle(page) -> None:
    wait_for_app(page)
    page.wait_for_timeout(500)
    wait_for_app(page)


def _open_grid_from_map(page, app_url: str, town_id: int) -> str:
    """Click a grid polygon on the town's map; the map page switches to that grid's page."""
    page.goto(f"{app_url}/map?town={town_id}")
    _settle(page)
    polygon = page.frame_locator("iframe[title*='st_folium']").locator("path.mq-grid").first
    polygon.wait_for(state="attached", timeout=60_000)
    polygon.dispatch_event("click")
    page.wait_for_url(re.compile(r".*/grid\?grid=\d+.*"), timeout=60_000)
    _settle(page)
    return re.search(r"grid=(\d+)", page.url).group(1)


def _backlog_tab(page):
    return page.get_by_role("tab", name=re.compile("在办事项"))


def _backlog_count(page) -> int:
    tab = _backlog_tab(page)
    tab.wait_for()
    return int(re.search(r"（(\d+)）", tab.inner_text()).group(1))


def _write_entry_as_case(page) -> None:
    page.get_by_role("tab", name=re.compile("写民情日记")).click()
    page.get_by_label("内容", exact=True).fill(ENTRY)
    page.get_by_text("同时登记为事项").click()
    page.get_by_label("事项内容", exact=True).fill(TITLE)
    page.get_by_role("button", name="保存日记").click()
    page.get_by_text("已登记为事项").wait_for(timeout=60_000)
    _settle(page)


def _choose_action(page, label: str) -> None:
    box = page.get_by_role("combobox", name=re.compile("操作"))
    if label not in (box.input_value() or ""):
        page.locator("[data-testid='stSelectbox']").filter(has_text="操作").click()
        page.get_by_role("option", name=label, exact=True).click()
        _settle(page)


def _do(page, label: str, fill: dict[str, str] | None = None, choose: str | None = None) -> None:
    """Pick an action, fill its form, save, and wait for the confirmation."""
    _choose_action(page, label)
    for field, value in (fill or {}).items():
        page.get_by_label(field, exact=True).fill(value)
    if choose:
        page.get_by_text(choose, exact=True).click()
    page.get_by_role("button", name=label, exact=True).click()
    page.get_by_text(f"已保存：{label}").wait_for(timeout=60_000)
    _settle(page)


def test_diary_entry_to_closed_case(page, app_url, browser_demo_url, sign_in_as):
    towns = town_choices(get_engine(browser_demo_url), scope=Scope.district())
    sign_in_as("district_supervisor")
    page.goto(app_url)
    _settle(page)
    _open_grid_from_map(page, app_url, towns[0][0])
    before = _backlog_count(page)

    _write_entry_as_case(page)
    assert _backlog_count(page) == before + 1
    page.get_by_role("link", name="打开刚登记的事项").click()
    page.wait_for_url(re.compile(r".*/case\?case=\d+.*"), timeout=60_000)
    _settle(page)
    page.get_by_role("heading", name=TITLE).wait_for()
    code = re.search(r"MQ[\w-]+", page.get_by_text(re.compile(r"^MQ")).first.inner_text()).group(0)

    _do(page, "开始办理")
    _do(page, "登记办理结果", fill={"办理结果": "已组织清淤，排水恢复"})
    _do(page, "反馈群众", choose="满意")
    _do(page, "销号")
    page.get_by_text(re.compile("已销号")).first.wait_for()
    history = page.locator("[data-testid='stDataFrame']").last.locator("table").first
    who = viewer_for("district_supervisor", browser_demo_url).label
    assert history.text_content().count(who) == 5  # opened from the diary, then four actions
    page.screenshot(path=str(ARTIFACTS / "case_closed.png"), full_page=True)

    page.locator("[data-testid='stPageLink'] a[href*='grid']").first.click()
    page.wait_for_url(re.compile(r".*/grid\?grid=\d+.*"), timeout=60_000)
    _settle(page)
    assert _backlog_count(page) == before
    _backlog_tab(page).click()
    tables = page.locator("[data-testid='stDataFrame'] table")
    assert all(code not in (tables.nth(i).text_content() or "") for i in range(tables.count()))
    page.screenshot(path=str(ARTIFACTS / "grid_after_close.png"), full_page=True)
    assert page.blocked_requests == []
