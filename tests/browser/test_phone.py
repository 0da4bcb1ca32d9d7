"""A grid cadre on a phone (390x844, Chromium, every request leaving localhost blocked): from the
start page to a diary entry for a household turned into a case, in at most 8 taps and fields
(counted as the test makes them); the typed text survives the network going away and coming
back; a save tapped twice writes one entry."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from minqing.households import household_choices
from minqing.models import Case, DiaryEntry
from minqing.store import get_engine, session_scope
from tests.auth import viewer_for
from tests.browser.conftest import ARTIFACTS, wait_for_app

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
MAX_STEPS = 8


class Steps:
    """Counts what the cadre does: each tap and each field typed into is one step."""

    def __init__(self, page):
        self.page, self.n = page, 0

    def tap(self, locator) -> None:
        self.n += 1
        locator.click()

    def type(self, locator, text: str) -> None:
        self.n += 1
        locator.fill(text)

    def keys(self, text: str) -> None:
        self.n += 1
        self.page.keyboard.type(text)


def _settle(page) -> None:
    wait_for_app(page)
    page.wait_for_timeout(500)
    wait_for_app(page)


def _counts(url: str, grid_id: int) -> tuple[int, int]:
    with session_scope(get_engine(url)) as s:
        entries = s.scalar(select(func.count()).select_from(DiaryEntry)
                           .where(DiaryEntry.grid_id == grid_id))
        cases = s.scalar(select(func.count()).select_from(Case).where(Case.grid_id == grid_id))
    return entries, cases


def _cadre_on_phone(page, app_url, sign_in_as, browser_demo_url):
    page.set_viewport_size(PHONE)
    sign_in_as("grid_cadre")
    viewer = viewer_for("grid_cadre", browser_demo_url)
    return viewer, viewer.jurisdiction_id


def _text_box(page):
    return page.get_by_label("内容", exact=True)


def test_start_page_to_a_case_in_at_most_8_steps(page, app_url, sign_in_as, browser_demo_url):
    viewer, grid_id = _cadre_on_phone(page, app_url, sign_in_as, browser_demo_url)
    household_id, label = household_choices(get_engine(browser_demo_url), scope=viewer.scope(),
                                            grid_id=grid_id)[0]
    head = label.split(" · ")[0]
    before = _counts(browser_demo_url, grid_id)
    page.goto(app_url)
    page.get_by_role("heading", name="我的网格").wait_for()
    _settle(page)
    steps = Steps(page)
    steps.tap(page.get_by_role("link", name="写民情日记").first)
    page.wait_for_url(re.compile(rf".*/grid\?grid={grid_id}&entry=new"))
    _settle(page)
    box = _text_box(page)
    box.wait_for()
    # on a phone the form comes first: its text box is on the first screen
    assert box.bounding_box()["y"] < PHONE["height"] * 2
    steps.tap(page.locator("[data-testid='stSelectbox']").filter(has_text="住户"))
    steps.keys(head)  # search by name
    steps.tap(page.get_by_role("option", name=label, exact=True))
    steps.type(box, "手机测试：楼道灯坏了，老人夜里看不清台阶")
    steps.tap(page.get_by_text("同时登记为事项"))
    steps.tap(page.get_by_role("button", name="保存日记"))
    page.get_by_text("已登记为事项").wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "phone_saved.png"))
    assert steps.n <= MAX_STEPS, steps.n
    assert _counts(browser_demo_url, grid_id) == (before[0] + 1, before[1] + 1)
    with session_scope(get_engine(browser_demo_url)) as s:
        entry = s.scalars(select(DiaryEntry).order_by(DiaryEntry.id.desc())).first()
        assert (entry.household_id, entry.account_id) == (household_id, viewer.account_id)
        assert entry.entry_key is not None
        case = s.scalars(select(Case).where(Case.diary_entry_id == entry.id)).one()
        assert case.title == "手机测试：楼道灯坏了，老人夜里看不清台阶"
    assert not page.blocked_requests, page.blocked_requests


_STATE = "document.querySelector('[data-testid=stApp]').dataset.testConnectionState"


class Network:
    """The phone's network, switched off and on: ``context.set_offline`` stops HTTP but leaves an
    open WebSocket alone (Playwright #4910), so Streamlit's socket is routed through the test,
    which drops it and refuses new ones while offline."""

    def __init__(self, page):
        self.page, self.online, self.sockets = page, True, []
        page.route_web_socket(re.compile(r".*/_stcore/stream"), self._route)

    def _route(self, ws) -> None:
        if not self.online:
            ws.close()
            return
        ws.connect_to_server()
        self.sockets.append(ws)

    def off(self) -> None:
        self.online = False
        self.page.context.set_offline(True)
        for ws in self.sockets:
            ws.close()
        self.sockets.clear()

    def on(self) -> None:
        self.online = True
        self.page.context.set_offline(False)


def test_typed_text_survives_a_reconnect(page, app_url, sign_in_as, browser_demo_url):
    _, grid_id = _cadre_on_phone(page, app_url, sign_in_as, browser_demo_url)
    network = Network(page)
    page.goto(f"{app_url}/grid?grid={grid_id}&entry=new")
    _settle(page)
    text = "断网测试：村委会门口的路面塌陷"
    _text_box(page).fill(text)
    network.off()
    page.wait_for_function(f"() => {_STATE} !== 'CONNECTED'")
    page.wait_for_timeout(2000)  # a while in the courtyard without a signal
    page.screenshot(path=str(ARTIFACTS / "phone_offline.png"))
    network.on()
    page.wait_for_function(f"() => {_STATE} === 'CONNECTED'", timeout=60_000)
    assert len(network.sockets) == 1  # a new socket: the app really reconnected
    _settle(page)
    assert _text_box(page).input_value() == text
    assert not page.blocked_requests, page.blocked_requests


def test_a_save_tapped_twice_writes_one_entry(page, app_url, sign_in_as, browser_demo_url):
    _, grid_id = _cadre_on_phone(page, app_url, sign_in_as, browser_demo_url)
    page.goto(f"{app_url}/grid?grid={grid_id}&entry=new")
    _settle(page)
    before = _counts(browser_demo_url, grid_id)
    _text_box(page).fill("重复提交测试：一条就够")
    page.get_by_role("button", name="保存日记").dblclick()
    page.get_by_text("已保存").first.wait_for(timeout=60_000)
    _settle(page)
    assert _counts(browser_demo_url, grid_id)[0] == before[0] + 1
    assert not page.blocked_requests, page.blocked_requests


def test_a_save_repeated_after_the_network_dropped_writes_one_entry(page, app_url, sign_in_as,
                                                                     browser_demo_url):
    _, grid_id = _cadre_on_phone(page, app_url, sign_in_as, browser_demo_url)
    network = Network(page)
    page.goto(f"{app_url}/grid?grid={grid_id}&entry=new")
    _settle(page)
    before = _counts(browser_demo_url, grid_id)
    text = "弱网测试：保存时信号断了"
    _text_box(page).fill(text)
    page.get_by_role("button", name="保存日记").click()
    network.off()  # the reply may never arrive
    page.wait_for_timeout(2000)
    network.on()
    page.wait_for_function(f"() => {_STATE} === 'CONNECTED'", timeout=60_000)
    _settle(page)
    if _text_box(page).input_value() == text:  # still showing what was typed: tap save again
        page.get_by_role("button", name="保存日记").click()
    # the confirmation may have been drawn while the socket was down, so read the store
    for _ in range(120):
        if _counts(browser_demo_url, grid_id)[0] > before[0]:
            break
        page.wait_for_timeout(500)
    _settle(page)
    assert _counts(browser_demo_url, grid_id)[0] == before[0] + 1
    assert not page.blocked_requests, page.blocked_requests
