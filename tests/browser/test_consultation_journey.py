"""A town's weekly consultation in Chromium, offline: the agenda built from the data, starting the
meeting, recording a decision (written to the case), and the printable minutes, whose print view
hides the screen-only button. Every request leaving localhost is blocked and must not happen."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from minqing.scope import Scope
from minqing.store import get_engine
from minqing.supervision import meetings
from tests.auth import session_cookie, viewer_for
from tests.browser.conftest import ARTIFACTS, start_app, wait_for_app
from tests.conftest import AS_OF

pytestmark = pytest.mark.browser

LEADER = "浏览器测试钱副镇长"


@pytest.fixture(scope="module")
def own_app(browser_demo_url, tmp_path_factory):
    """An app over its own copy of the demo: this journey writes a meeting and decisions."""
    path = tmp_path_factory.mktemp("consultation") / "demo.db"
    shutil.copy(browser_demo_url.split("///", 1)[1], path)
    url = f"sqlite:///{path}"
    proc, base = start_app(url)
    yield url, base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _settle(page) -> None:
    wait_for_app(page)
    page.wait_for_timeout(500)
    wait_for_app(page)


def _busiest_town(url: str) -> int:
    engine = get_engine(url)
    sizes = {t: len(meetings.agenda(engine, scope=Scope.district(), kind="consultation",
                                    town_id=t, today=AS_OF)) for t in (1, 2, 3)}
    return max(sizes, key=sizes.get)


def test_prepare_decide_and_print(page, own_app):
    url, base = own_app
    town = _busiest_town(url)
    page.context.add_cookies([session_cookie("district_supervisor", url, base)])
    page.goto(f"{base}/consultation?town={town}")
    _settle(page)
    page.get_by_text(re.compile(r"议程（\d+ 件）")).wait_for()
    page.get_by_label("主持人", exact=True).fill("镇党委书记")
    page.get_by_label("参会人员", exact=True).fill("书记、镇长、各片长")
    page.get_by_role("button", name="开始会议").click()
    page.wait_for_url(re.compile(r".*meeting=\d+.*"), timeout=60_000)
    _settle(page)
    meeting_id = int(re.search(r"meeting=(\d+)", page.url).group(1))
    page.get_by_label("包案领导", exact=True).fill(LEADER)
    page.get_by_label("会诊意见", exact=True).fill("由副镇长包案，限期办结")
    page.get_by_role("button", name="保存决定").click()
    page.get_by_text(re.compile("已记录事项")).wait_for(timeout=60_000)
    _settle(page)
    minutes = meetings.meeting_minutes(get_engine(url), scope=Scope.district(),
                                       meeting_id=meeting_id)
    decided = minutes["items"].dropna(subset=["action"])
    assert decided["changes"].map(lambda c: c.get("leader", [None, None])[1]).tolist() == [LEADER]
    # recorded as the signed-in account
    assert decided["decided_by"].tolist() == [viewer_for("district_supervisor", url).label]
    frame = page.frame_locator("iframe[title='st.iframe']").first
    frame.get_by_text("会诊纪要").first.wait_for()
    frame.get_by_text(LEADER, exact=False).first.wait_for()
    button = frame.get_by_role("button", name="打印")
    assert button.is_visible()
    page.emulate_media(media="print")
    assert button.is_hidden(), "the print view hides the screen-only button"
    page.emulate_media(media="screen")
    page.screenshot(path=str(ARTIFACTS / "consultation-minutes.png"), full_page=True)
    assert page.blocked_requests == []
