"""Every page opens from the address a user copies out of the browser (including /overview, which
Streamlit would answer with "Page not found" if the default page only lived at /)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from minqing.models import Case, Grid, Household, Town
from minqing.store import get_engine
from tests.browser.conftest import wait_for_app

pytestmark = pytest.mark.browser


def _ids(url: str) -> dict[str, int]:
    with get_engine(url).connect() as conn:
        return {name: conn.scalar(select(model.id).order_by(model.id.desc()).limit(1))
                for name, model in (("town", Town), ("grid", Grid), ("case", Case),
                                    ("household", Household))}


def test_every_page_opens_from_its_copied_address(page, app_url, browser_demo_url, sign_in_as):
    sign_in_as("district_supervisor")
    ids = _ids(browser_demo_url)
    addresses = [
        ("/", "全区概览"), ("/overview", "全区概览"), ("/overview?lang=en", "District at a glance"),
        (f"/map?town={ids['town']}", "一张图"), (f"/grid?grid={ids['grid']}", None),
        (f"/case?case={ids['case']}", None), (f"/household?household={ids['household']}", None),
    ]
    for address, heading in addresses:
        page.goto(app_url + address)
        page.locator("h1").first.wait_for()
        wait_for_app(page)
        page.wait_for_timeout(500)
        assert page.get_by_text("Page not found").count() == 0, address
        assert page.locator("[data-testid='stException']").count() == 0, address
        assert page.locator("[data-testid='stAlertContentWarning']").count() == 0, address
        if heading:
            assert heading in page.locator("h1").first.inner_text(), address
    assert page.blocked_requests == []
