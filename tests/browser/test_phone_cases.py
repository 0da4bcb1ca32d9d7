"""A grid cadre updating a case on a phone (390x844, Chromium, every request leaving localhost
blocked): from "my grids" a case's quick update records progress, then (again from "my grids")
its result, the resident's feedback and the close, each update in at most 8 taps and fields
(counted as the test makes them); a save tapped twice appends one event; a save whose reply was
lost says so once the phone has reconnected, and the store holds it once."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from minqing.cases import NewCase, act
from minqing.clock import today
from minqing.diary import NewEntry, record
from minqing.grids import cadre_choices
from minqing.models import Case, CaseEvent
from minqing.scope import Scope
from minqing.store import get_engine, session_scope
from tests.auth import viewer_for
from tests.browser.conftest import ARTIFACTS
from tests.browser.phone import (
    MAX_STEPS,
    PHONE,
    Network,
    Steps,
    save_losing_the_reply,
    settle,
)

pytestmark = pytest.mark.browser


def _handling_case(url: str, grid_id: int, title: str) -> int:
    """A case in the grid opened from a house call and started: in handling."""
    engine = get_engine(url)
    cadre_id = cadre_choices(engine, scope=Scope.district(), grid_id=grid_id)[0][0]
    entry = NewEntry(grid_id=grid_id, cadre_id=cadre_id, entry_date=today(), kind="demand",
                     source="house_call", text=title)
    case = NewCase(grid_id=grid_id, title=title, track="immediate", responsible="李干部")
    _, case_id = record(engine, entry=entry, case=case, actor="test")
    with session_scope(engine) as s:
        version = s.get(Case, case_id).version
    act(engine, case_id=case_id, version=version, action="start", actor="test")
    return case_id


def _events(url: str, case_id: int) -> list[tuple[str, int | None]]:
    with session_scope(get_engine(url)) as s:
        return list(s.execute(select(CaseEvent.action, CaseEvent.account_id)
                              .where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def _notes(url: str, case_id: int) -> int:
    with session_scope(get_engine(url)) as s:
        return s.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case_id, CaseEvent.action == "note"))


def _cadre(page, sign_in_as, url: str, title: str):
    page.set_viewport_size(PHONE)
    sign_in_as("grid_cadre")
    viewer = viewer_for("grid_cadre", url)
    return viewer, _handling_case(url, viewer.jurisdiction_id, title)


def _my_grids(page, app_url: str) -> None:
    page.goto(app_url)
    page.get_by_role("heading", name="我的网格").wait_for()
    settle(page)


def _card(page, case_id: int):
    return page.locator(f".st-key-case_card_{case_id}")


def _action(page, label: str):
    """One of the quick update's action buttons."""
    return page.locator("[data-testid='stButtonGroup'] button").filter(
        has_text=re.compile(f"^{label}$"))


def _save(page):
    return page.locator("[data-testid='stFormSubmitButton'] button")


def _open_quick_update(steps: Steps, page, case_id: int) -> None:
    steps.tap(_card(page, case_id).get_by_role("link", name="更新进展"))
    page.wait_for_url(re.compile(rf".*/case\?case={case_id}&update=quick"))
    settle(page)


def _saved(page, label: str) -> None:
    page.get_by_text(f"已保存：{label}").wait_for(timeout=60_000)
    settle(page)


def test_progress_then_close_with_feedback_each_in_at_most_8_steps(page, app_url, sign_in_as,
                                                                    browser_demo_url):
    title = "手机测试：三号楼楼道灯不亮"
    viewer, case_id = _cadre(page, sign_in_as, browser_demo_url, title)

    _my_grids(page, app_url)
    page.screenshot(path=str(ARTIFACTS / "phone_my_grids.png"), full_page=True)
    progress = Steps(page)
    _open_quick_update(progress, page, case_id)
    # the quick update comes first: its actions are on the first screen
    assert _action(page, "添加备注").bounding_box()["y"] < PHONE["height"]
    progress.tap(_action(page, "添加备注"))
    settle(page)
    progress.type(page.get_by_label("备注", exact=True), "已联系物业，明天上午换灯")
    progress.tap(_save(page))
    _saved(page, "添加备注")
    page.screenshot(path=str(ARTIFACTS / "phone_case_progress.png"))
    assert progress.n <= MAX_STEPS, progress.n

    _my_grids(page, app_url)
    close = Steps(page)
    _open_quick_update(close, page, case_id)
    close.type(page.get_by_label("办理结果", exact=True), "物业已换新灯，楼道照明恢复")  # preselected
    close.tap(_save(page))
    _saved(page, "登记办理结果")
    close.tap(page.get_by_text("满意", exact=True))  # feedback is preselected now
    close.type(page.get_by_label("反馈情况", exact=True), "上门告知，群众满意")
    close.tap(_save(page))
    _saved(page, "反馈群众")
    close.tap(_save(page))  # close is preselected and asks for nothing
    _saved(page, "销号")
    page.screenshot(path=str(ARTIFACTS / "phone_case_closed.png"))
    assert close.n <= MAX_STEPS, close.n

    events = _events(browser_demo_url, case_id)
    assert [a for a, _ in events] == ["open", "start", "note", "result", "feedback", "close"]
    assert {account for _, account in events[2:]} == {viewer.account_id}
    _my_grids(page, app_url)
    assert _card(page, case_id).count() == 0  # closed: no longer on the start page
    assert not page.blocked_requests, page.blocked_requests


def test_a_case_update_tapped_twice_appends_one_event(page, app_url, sign_in_as,
                                                      browser_demo_url):
    _, case_id = _cadre(page, sign_in_as, browser_demo_url, "手机测试：双击保存")
    page.goto(f"{app_url}/case?case={case_id}&update=quick")
    settle(page)
    _action(page, "添加备注").click()
    settle(page)
    page.get_by_label("备注", exact=True).fill("双击测试：只记一次")
    _save(page).dblclick()
    # the second tap may rerun the page after the save: the confirmation is then already the
    # reminder ("your last ... was recorded"); either way one note
    page.get_by_text(re.compile("已保存：添加备注|您上次的「添加备注」已经记录")).first.wait_for(
        timeout=60_000)
    settle(page)
    assert _notes(browser_demo_url, case_id) == 1
    assert not page.blocked_requests, page.blocked_requests


def test_a_case_update_whose_reply_was_lost_says_it_was_recorded(page, app_url, sign_in_as,
                                                                 browser_demo_url):
    _, case_id = _cadre(page, sign_in_as, browser_demo_url, "手机测试：保存时信号断了")
    network = Network(page)
    page.goto(f"{app_url}/case?case={case_id}&update=quick")
    settle(page)
    _action(page, "添加备注").click()
    settle(page)
    page.get_by_label("备注", exact=True).fill("弱网测试：回复丢了")
    save_losing_the_reply(page, network, save=lambda: _save(page).click(),
                          written=lambda: _notes(browser_demo_url, case_id) > 0)
    notice = page.get_by_text(re.compile("您上次的「添加备注」已经记录.*无需重新提交"))
    notice.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "phone_case_reply_lost.png"))
    # the next, blank form (the next move preselected), not the one sent
    assert page.get_by_label("办理结果", exact=True).input_value() == ""
    assert _notes(browser_demo_url, case_id) == 1
    assert not page.blocked_requests, page.blocked_requests
