"""The planner's journey in Chromium with every outside request blocked: propose a rebalance,
compare before and after on the map, edit a grid by hand, publish, restore the old version."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from minqing import i18n, layers
from minqing.store import get_engine
from tests.browser.conftest import ARTIFACTS, start_app, wait_for_app

pytestmark = pytest.mark.browser

MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"


def t(key: str, **fmt) -> str:
    return i18n.t(key, "zh", **fmt)


@pytest.fixture
def planner_app(browser_demo_url, tmp_path, page):
    """A running app over a private copy of the small demo (this journey writes)."""
    path = Path(browser_demo_url.split("///", 1)[1])
    copy = tmp_path / "plan.db"
    shutil.copy(path, copy)
    url = f"sqlite:///{copy}"
    proc, base = start_app(url)
    from tests.auth import session_cookie

    page.context.add_cookies([session_cookie("planner", url, base)])  # signed in as the planner
    yield base, url
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _visible(locator):
    """The visible match (hidden tabs keep their widgets in the page)."""
    return locator.filter(visible=True).first


def test_propose_compare_edit_publish_restore(page, planner_app):
    base, url = planner_app
    engine = get_engine(url)
    v1 = layers.current_layer(engine)
    page.goto(f"{base}/planner")
    page.get_by_role("heading", name=t("plan.title")).wait_for()
    wait_for_app(page)
    # the check tab draws the town's grids, coloured by deviation
    page.frame_locator(MAP_IFRAME).first.locator("path.leaflet-interactive").first.wait_for()

    page.get_by_role("tab", name=t("plan.tab.propose")).click()
    page.get_by_role("button", name=t("plan.propose")).click()
    page.get_by_text(t("plan.sum.moved")).first.wait_for()
    wait_for_app(page)
    # before and after maps, the moved households marked on them
    _visible(page.get_by_text(t("plan.compare.before"), exact=True)).wait_for()
    after = page.frame_locator(MAP_IFRAME).nth(2)  # 0: the check tab's map, 1: before
    after.locator("path.leaflet-interactive").first.wait_for()
    page.locator(MAP_IFRAME).nth(2).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "planner_compare.png"))

    # a hand edit: take the 3 households nearest the neighbouring grid and apply
    block = _visible(page.get_by_label(t("plan.edit.block")))
    block.fill("3")
    block.press("Enter")
    wait_for_app(page)
    apply = page.get_by_role("button", name=t("plan.edit.apply"))
    expect(apply).to_be_enabled(timeout=60_000)  # three households are selected
    apply.click()
    wait_for_app(page)

    # publish as version 2
    _visible(page.get_by_label(t("plan.publish.reason"))).fill("网格规模年度调整，会议通过")
    page.get_by_role("button", name=t("plan.publish.go")).click()
    # a publish writes the whole layer (every household's assignment): slow on a loaded CI box
    page.get_by_text(t("plan.publish.done", number=2, moved=0)[:10]).first.wait_for(
        timeout=180_000)
    assert layers.current_layer(engine).number == 2

    # restore version 1 from the versions tab
    page.get_by_role("tab", name=t("plan.tab.versions")).click()
    _visible(page.get_by_label(t("plan.ver.view"))).click()
    page.get_by_role("option", name=str(v1.number), exact=True).click()
    wait_for_app(page)
    _visible(page.get_by_label(t("plan.publish.reason"))).fill("撤回调整")
    page.get_by_role("button", name=t("plan.ver.restore"), exact=True).click()
    page.get_by_text(t("plan.ver.restored", number=1, moved=0)[:8]).first.wait_for(
        timeout=180_000)
    assert layers.current_layer(engine).id == v1.id
    actions = layers.layer_events(engine)
    assert actions["action"].tolist()[:3] == ["restore", "publish", "create"]
    assert actions["actor"].tolist()[:2] == ["规划员（演示） (planner)"] * 2
    page.screenshot(path=str(ARTIFACTS / "planner_versions.png"), full_page=True)
    assert page.blocked_requests == []
