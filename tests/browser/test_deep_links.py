"""Deep links work from the very first request to a freshly started app.

Streamlit treats a folder named ``pages/`` beside the entry script as a legacy multipage app until
some session has run app.py; a supervisor's link opened first would then run the page without the
app shell (no language switch, no town picker). The pages live in ``app_pages/`` for that reason;
this test guards it.
"""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import select

from minqing.models import Grid
from minqing.store import get_engine
from tests.auth import session_cookie
from tests.browser.conftest import start_app, wait_for_app

pytestmark = pytest.mark.browser


def test_first_request_to_a_fresh_server_can_be_a_deep_link(page, browser_demo_url):
    with get_engine(browser_demo_url).connect() as conn:
        grid_id, name = conn.execute(select(Grid.id, Grid.name).order_by(Grid.id.desc())).first()
    proc, base = start_app(browser_demo_url)
    try:
        page.context.add_cookies([session_cookie("district_supervisor", browser_demo_url, base)])
        page.goto(f"{base}/grid?grid={grid_id}")
        page.get_by_role("heading", name=name).wait_for()
        wait_for_app(page)
        sidebar = page.locator("[data-testid='stSidebar']")
        assert sidebar.get_by_text("语言 / Language").count() == 1  # the app shell ran
        assert sidebar.get_by_text("网格详情").count() == 1  # navigation titles, not file names
        assert page.blocked_requests == []
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
