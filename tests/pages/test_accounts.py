"""AppTest of signing in and out, lock-out and idle expiry on the form, the forced first password
change, the accounts page (create, reset, display token) and the audit page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from minqing import accounts, audit
from minqing.access import Role
from minqing.models import Account, Grid
from minqing.scope import Scope
from minqing.store import get_engine
from tests.auth import PASSWORDS, USERNAMES, sign_in
from tests.conftest import APP


@pytest.fixture
def url(sqlite_demo_url, monkeypatch) -> str:
    monkeypatch.setenv("MINQING_DATABASE_URL", sqlite_demo_url)
    get_engine.cache_clear()
    return sqlite_demo_url


def _form(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    (button,) = [b for b in at.button if b.label == "登录"]
    return button.click().run()


def _titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def test_signed_out_visitors_see_only_the_sign_in_form(url):
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception
    assert [s.value for s in at.subheader] == ["登录"]
    assert not at.metric
    at = _form(at, "town", "wrong password")
    assert at.error[0].value == "用户名或密码不正确。"
    at = _form(at, "town", PASSWORDS["town"])
    assert _titles(at) == ["全区概览"]
    assert not at.sidebar.selectbox  # a town supervisor has no town picker to widen
    assert "建设街道" in at.sidebar.caption[0].value
    (out,) = [b for b in at.sidebar.button if b.label == "退出登录"]
    at = out.click().run()
    assert [s.value for s in at.subheader] == ["登录"]
    assert audit.search(get_engine(url), scope=Scope.district(),
                        actions=("sign_out",))["username"].tolist() == ["town"]


def test_the_form_says_when_the_account_is_locked(url):
    at = AppTest.from_file(APP, default_timeout=90).run()
    for _ in range(5):
        at = _form(at, "planner", "wrong password")
    assert "已锁定至" in at.error[0].value
    at = _form(at, "planner", PASSWORDS["planner"])
    assert "已锁定至" in at.error[0].value


def test_an_idle_session_is_signed_out(url):
    at = sign_in(AppTest.from_file(APP, default_timeout=90), "district_supervisor").run()
    assert _titles(at) == ["全区概览"]
    at.session_state["_auth_last_activity"] = dt.datetime.now() - dt.timedelta(minutes=31)
    at.run()
    assert [s.value for s in at.subheader] == ["登录"]
    assert "长时间未操作" in at.info[0].value
    assert audit.search(get_engine(url), scope=Scope.district(),
                        actions=("session_expired",))["username"].tolist() == ["district"]


def test_first_sign_in_forces_a_new_password(url):
    engine = get_engine(url)
    accounts.create_account(engine, by=Scope.district(), username="newbie", name="新人",
                            role=Role.PLANNER, password="initial-pass", must_change_password=True)
    at = _form(AppTest.from_file(APP, default_timeout=90).run(), "newbie", "initial-pass")
    assert _titles(at) == ["修改密码"]
    at.switch_page("app_pages/household.py")
    at.run()
    assert _titles(at) == ["修改密码"], "no page until the password is changed"
    old, new, again = at.text_input
    old.input("initial-pass")
    new.input("chosen-by-me")
    again.input("chosen-by-me")
    (save,) = [b for b in at.button if b.label == "保存新密码"]
    at = save.click().run()
    assert _titles(at) == ["家庭档案"]  # the page asked for, now that the password is changed
    assert at.sidebar.success[0].value == "密码已修改。"
    assert not accounts.needs_password_change(
        engine, engine.connect().scalar(select(Account.id).where(Account.username == "newbie")))


def test_admin_creates_an_account_and_a_display_link(url):
    at = sign_in(AppTest.from_file(APP, default_timeout=90), "admin")
    at.switch_page("app_pages/accounts.py")
    at.run()
    assert _titles(at) == ["账号管理"]
    assert set(USERNAMES.values()) <= set(at.dataframe[0].value["用户名"])
    at.selectbox(key="new_role_0").select("grid_cadre").run()
    with get_engine(url).connect() as conn:
        grid = conn.scalar(select(func.min(Grid.id)))
    at.selectbox(key="new_0_place_grid_cadre_grid").set_value(grid).run()
    for widget, value in zip(at.text_input[:4], ["li.si", "李四", "", "initial-pass"],
                             strict=True):
        widget.input(value)
    (create,) = [b for b in at.button if b.label == "创建账号"]
    at = create.click().run()
    assert not at.exception
    assert any("li.si" in s.value for s in at.success)
    engine = get_engine(url)
    with engine.connect() as conn:
        row = conn.execute(select(Account.role, Account.level, Account.jurisdiction_id,
                                  Account.must_change_password)
                           .where(Account.username == "li.si")).one()
    assert tuple(row) == ("grid_cadre", "grid", grid, True)

    (made,) = [b for b in at.button if b.label == "生成大屏链接"]
    at = made.click().run()
    link = at.code[0].value
    assert "/display?token=" in link
    token = link.split("token=", 1)[1]
    assert accounts.resume(engine, token, kind=accounts.DISPLAY).username == "display"
    audit_rows = audit.search(engine, scope=Scope.district())
    assert {"account_created", "display_token_created"} <= set(audit_rows["action"])


def test_audit_page_is_the_admins(url):
    at = sign_in(AppTest.from_file(APP, default_timeout=90), "admin")
    at.switch_page("app_pages/audit.py")
    at.run()
    assert _titles(at) == ["审计日志"]
    officer = sign_in(AppTest.from_file(APP, default_timeout=90), "data_officer")
    officer.switch_page("app_pages/audit.py")
    officer.run()
    assert _titles(officer) == ["全区概览"]
    officer.switch_page("app_pages/accounts.py")
    officer.run()
    assert _titles(officer) == ["账号管理"]
    roles = officer.selectbox(key="new_role_0").options
    assert "系统管理员" not in roles  # a data officer cannot make an admin
    assert "数据专员" in roles
