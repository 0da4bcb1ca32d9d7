"""A grid cadre on a phone (390x844, Chromium, every request leaving localhost blocked): from the
start page to a diary entry for a household turned into a case, in at most 8 taps and fields
(counted as the test makes them); the typed text survives the network going away and coming
back; a save tapped twice writes one entry; a save whose reply was lost says, once the phone has
reconnected, that it was recorded (the quick case update: tests/browser/test_phone_cases.py)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from minqing.households import household_choices
from minqing.models import Case, DiaryEntry
from minqing.store import get_engine, session_scope
from tests.auth import viewer_for
from tests.browser.conftest import ARTIFACTS
from tests.browser.phone import (
    MAX_STEPS,
    PHONE,
    STATE,
    Network,
    Steps,
    save_losing_the_reply,
    settle,
)

pytestmark = pytest.mark.browser

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
    settle(page)
    steps = Steps(page)
    steps.tap(page.get_by_role("link", name="写民情日记").first)
    page.wait_for_url(re.compile(rf".*/grid\?grid={grid_id}&entry=new"))
    settle(page)
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


def test_typed_text_survives_a_reconnect(page, app_url, sign_in_as, browser_demo_url):
    _, grid_id = _cadre_on_phone(page, app_url, sign_in_as, browser_demo_url)
    network = Network(page)
    page.goto(f"{app_url}/grid?grid={grid_id}&entry=new")
    settle(page)
    text = "断网测试：村委会门口的路面塌陷"
    _text_box(page).fill(text)
    network.off()
    page.wait_for_function(f"() => {STATE} !== 'CONNECTED'")
    page.wait_for_timeout(2000)  # a while in the courtyard without a signal
    page.screenshot(path=str(ARTIFACTS / "phone_offline.png"))
    network.on()
    page.wait_for_function(f"() => {STATE} === 'CONNECTED'", timeout=60_000)
    assert len(network.sockets) == 1  # a new socket: the app really reconnected
    settle(page)
    assert _text_box(page).input_value() == text
    assert not page.blocked_requests, page.blocked_requests


def test_a_save_tapped_twice_writes_one_entry(page, app_url, sign_in_as, browser_demo_url):
    _, grid_id = _cadre_on_phone(page, app_url, sign_in_as, browser_demo_url)
    page.goto(f"{app_url}/grid?grid={grid_id}&entry=new")
    settle(page)
    before = _counts(browser_demo_url, grid_id)
    _text_box(page).fill("重复提交测试：一条就够")
    page.get_by_role("button", name="保存日记").dblclick()
    page.get_by_text("已保存").first.wait_for(timeout=60_000)
    settle(page)
    assert _counts(browser_demo_url, grid_id)[0] == before[0] + 1
    assert not page.blocked_requests, page.blocked_requests


def test_a_save_repeated_after_the_network_dropped_writes_one_entry(page, app_url, sign_in_as,
                                                                     browser_demo_url):
    """Save, and the network drops at once. Three endings, told apart as the cadre would: the
    save went through (its receipt says so); the tap never reached the server (the text is still
    there: tap save again); or the server got the tap but Streamlit stopped the run when the
    socket dropped, before the save (the form is back empty, no receipt: type it again). Each
    ends with one entry."""
    _, grid_id = _cadre_on_phone(page, app_url, sign_in_as, browser_demo_url)
    network = Network(page)
    page.goto(f"{app_url}/grid?grid={grid_id}&entry=new")
    settle(page)
    before = _counts(browser_demo_url, grid_id)
    text = "弱网测试：保存时信号断了"
    _text_box(page).fill(text)
    page.get_by_role("button", name="保存日记").click()
    network.off()  # the reply may never arrive
    page.wait_for_timeout(2000)
    network.on()
    network.reconnected()
    expect(_text_box(page)).to_have_count(1)  # the page before the reconnect is gone
    receipt = page.get_by_text(re.compile("日记已保存|民情日记已经记录"))
    if not receipt.count():
        if _text_box(page).input_value() != text:
            _text_box(page).fill(text)
        page.get_by_role("button", name="保存日记").click()
        receipt.first.wait_for(timeout=60_000)
    settle(page)
    assert _counts(browser_demo_url, grid_id)[0] == before[0] + 1
    assert not page.blocked_requests, page.blocked_requests


def test_a_diary_save_whose_reply_was_lost_says_it_was_recorded(page, app_url, sign_in_as,
                                                                browser_demo_url):
    _, grid_id = _cadre_on_phone(page, app_url, sign_in_as, browser_demo_url)
    network = Network(page)
    page.goto(f"{app_url}/grid?grid={grid_id}&entry=new")
    settle(page)
    before = _counts(browser_demo_url, grid_id)
    _text_box(page).fill("弱网测试：保存的回复丢了")
    save_losing_the_reply(
        page, network, save=lambda: page.get_by_role("button", name="保存日记").click(),
        written=lambda: _counts(browser_demo_url, grid_id)[0] > before[0])
    page.get_by_text(re.compile("民情日记已经记录.*无需重新提交")).wait_for(timeout=60_000)
    # the form the lost reply would have replaced stays in the page, hidden and marked stale,
    # until the reconnected run has finished drawing; then only the next, blank form is left
    page.wait_for_function(
        "() => document.querySelectorAll('textarea[aria-label=\"内容\"]').length === 1",
        timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "phone_diary_reply_lost.png"))
    assert _text_box(page).input_value() == ""  # the next, blank form, not the one sent
    assert _counts(browser_demo_url, grid_id)[0] == before[0] + 1
    assert not page.blocked_requests, page.blocked_requests

