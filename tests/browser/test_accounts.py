"""Sign-in journeys in Chromium, offline (every request leaving localhost is blocked):

* a town supervisor opens a household of another town by deep link, signs in on the form that
  link shows, and is refused plainly; their own town's household is there unmasked; the sign-in
  survives a reload and a link opened in a new tab; signing out ends it, also after a reload;
* the wall display signs in by the token in its URL and finds no personal data anywhere, whatever
  address it is sent to; a revoked token signs nothing in.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from minqing import accounts
from minqing.models import Account, Cadre, Household
from minqing.scope import Scope
from minqing.store import get_engine
from tests.auth import PASSWORDS, USERNAMES
from tests.browser.conftest import ARTIFACTS, wait_for_app

pytestmark = pytest.mark.browser
PHONE = re.compile(r"1[3-9]\d{9}")
ID_NUMBER = re.compile(r"\d{17}[\dX]")


def _households(url: str) -> tuple[tuple[int, str], tuple[int, str]]:
    """(id, head name) of a household in the demo town supervisor's town and one outside it."""
    engine = get_engine(url)
    with engine.connect() as conn:
        town = conn.scalar(select(Account.jurisdiction_id).where(Account.username == "town"))
        inside = conn.execute(select(Household.id, Household.head_name)
                              .where(Household.town_id == town).order_by(Household.id)).first()
        outside = conn.execute(select(Household.id, Household.head_name)
                               .where(Household.town_id != town).order_by(Household.id)).first()
    return tuple(inside), tuple(outside)


def _sign_in_on_form(page, role: str) -> None:
    username = USERNAMES[role]
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORDS[username])
    page.get_by_role("button", name="登录").click()
    page.locator("[data-testid='stSidebar']").get_by_text("退出登录").wait_for()
    wait_for_app(page)


def _main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def test_town_supervisor_is_refused_another_towns_household(page, app_url, browser_demo_url):
    (own_id, own_name), (other_id, other_name) = _households(browser_demo_url)
    page.goto(f"{app_url}/household?household={other_id}")
    page.get_by_role("button", name="登录").wait_for()
    assert page.get_by_role("heading", name=re.compile("家庭档案")).count() == 0
    _sign_in_on_form(page, "town_supervisor")
    page.get_by_text(f"找不到住户 {other_id}").wait_for()  # the deep link survived sign-in
    page.get_by_text(re.compile("您的管辖范围")).wait_for()
    wait_for_app(page)
    assert other_name not in _main_text(page)

    page.goto(f"{app_url}/household?household={own_id}")  # a new session: the cookie signs in
    page.get_by_role("heading", name=re.compile(own_name)).wait_for()
    wait_for_app(page)
    assert PHONE.search(_main_text(page)), "own jurisdiction: the phone is shown in full"
    page.reload()
    page.get_by_role("heading", name=re.compile(own_name)).wait_for()

    tab = page.context.new_page()
    tab.goto(f"{app_url}/household?household={own_id}")
    tab.get_by_role("heading", name=re.compile(own_name)).wait_for()
    tab.close()

    page.locator("[data-testid='stSidebar']").get_by_role("button", name="退出登录").click()
    page.get_by_role("button", name="登录").wait_for()
    wait_for_app(page)
    page.reload()
    page.get_by_role("button", name="登录").wait_for()
    wait_for_app(page)
    assert own_name not in _main_text(page)
    assert page.blocked_requests == []


def _personal_data(url: str) -> list[str]:
    """Names of household heads and cadres that must never reach the display."""
    with get_engine(url).connect() as conn:
        heads = conn.scalars(select(Household.head_name).order_by(Household.id).limit(300)).all()
        cadres = conn.scalars(select(Cadre.name).order_by(Cadre.id).limit(100)).all()
    return [n for n in {*heads, *cadres} if len(n) >= 3]  # 2-character names hit by chance


def test_display_token_shows_no_personal_data_anywhere(page, app_url, browser_demo_url):
    engine = get_engine(browser_demo_url)
    with engine.connect() as conn:
        display = conn.scalar(select(Account.id).where(Account.username == "display"))
        household = conn.scalar(select(Household.id).order_by(Household.id))
    token = accounts.create_display_token(engine, by=Scope.district(), account_id=display,
                                          label="browser test")
    names = _personal_data(browser_demo_url)
    for path in ("display", "", "map", f"household?household={household}", "grid?grid=1",
                 "case?case=1", "accounts"):
        sep = "&" if "?" in path else "?"
        page.goto(f"{app_url}/{path}{sep}token={token}")
        if path == "display":  # the wall itself (tests/browser/test_display.py scans every view)
            page.wait_for_selector(".mq-wall[data-count]")
        else:
            page.get_by_role("heading", name="全区概览").wait_for()
        wait_for_app(page)
        text = page.locator("[data-testid='stApp']").inner_text()
        assert not PHONE.search(text), path
        assert not ID_NUMBER.search(text), path
        assert [n for n in names if n in text] == [], path
        assert page.get_by_role("button", name="退出登录").count() == 0
    page.screenshot(path=str(ARTIFACTS / "display_signed_in.png"), full_page=True)

    token_id = accounts.display_tokens(engine, scope=Scope.district())["id"].iloc[0]
    accounts.revoke_display_token(engine, by=Scope.district(), token_id=int(token_id))
    page.goto(f"{app_url}/?token={token}")
    page.get_by_role("button", name="登录").wait_for()
    assert page.blocked_requests == []
