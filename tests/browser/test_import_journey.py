"""A data officer's first day in Chromium: an empty store, a grid layer then a household list
uploaded, each previewed (report + map) and applied; every outside request blocked."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import func, select

from minqing.models import Grid, GridLayer, Household
from minqing.store import get_engine
from tests.browser.conftest import ARTIFACTS, start_app, wait_for_app
from tests.importfiles import county_grids, household_rows
from ui.auth import COOKIE

pytestmark = pytest.mark.browser


@pytest.fixture
def empty_app(tmp_path):
    """An app over a store with the schema and one data officer's account, but no district."""
    from minqing import accounts
    from minqing.scope import Scope
    from minqing.store import upgrade

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    engine = get_engine(url)
    officer = accounts.create_account(engine, by=Scope.district(), username="officer",
                                      name="数据员", role="data_officer", password="x" * 16,
                                      must_change_password=False)
    proc, base = start_app(url)
    token = accounts.open_token(engine, officer)
    cookie = {"name": COOKIE, "value": accounts.sign(token, accounts.signing_key(engine)),
              "url": base}
    yield url, base, cookie
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _upload_preview_apply(page, accept: str, path, summary: str, finding: str) -> None:
    page.locator(f"input[type=file][accept*='{accept}']").set_input_files(str(path))
    page.get_by_text(path.name).first.wait_for()
    wait_for_app(page)
    page.get_by_role("button", name="预览检查").click()
    page.get_by_role("button", name="确认导入").wait_for()
    wait_for_app(page)
    page.get_by_text(summary, exact=False).first.wait_for()
    cells = page.locator("[data-testid='stDataFrame'] [role='gridcell']")
    cells.first.wait_for(state="attached")
    assert any(finding in text for text in cells.all_text_contents())
    for _ in range(60):  # the map is a component iframe: it loads after the page
        if any(f.locator(".leaflet-container path, .leaflet-interactive").count()
               for f in page.frames):
            break
        page.wait_for_timeout(500)
    else:
        pytest.fail("the preview map did not render")
    page.screenshot(path=str(ARTIFACTS / f"preview_{accept.strip('.')}.png"), full_page=True)
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("导入完成", exact=False).first.wait_for()
    wait_for_app(page)


def test_empty_store_to_grids_and_households(page, empty_app, tmp_path):
    url, base, cookie = empty_app
    page.context.add_cookies([cookie])
    page.set_viewport_size({"width": 1400, "height": 2200})  # the report and the map in one shot
    grids = county_grids()
    gpkg = tmp_path / "网格.gpkg"
    grids.to_file(gpkg, driver="GPKG")
    homes = household_rows(grids, per_grid=2)
    homes.loc[1, ["经度", "纬度"]] = [homes.loc[1, "纬度"], homes.loc[1, "经度"]]
    csv = tmp_path / "住户.csv"
    homes.to_csv(csv, index=False, encoding="gbk")

    page.goto(f"{base}/data")
    wait_for_app(page)
    page.get_by_role("heading", name="数据导入导出").wait_for()
    _upload_preview_apply(page, ".gpkg", gpkg, f"新增 {len(grids)}", "新建镇街")
    page.screenshot(path=str(ARTIFACTS / "import_grids.png"), full_page=True)

    page.get_by_text("住户名单", exact=True).first.click()
    wait_for_app(page)
    _upload_preview_apply(page, ".csv", csv, f"新增 {len(homes)}", "经度和纬度填反了")
    page.screenshot(path=str(ARTIFACTS / "import_households.png"), full_page=True)

    engine = get_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Grid)) == len(grids)
        assert conn.scalar(select(func.count()).select_from(Household)) == len(homes)
        assert conn.scalar(select(func.count()).select_from(GridLayer)) == 1
    assert page.blocked_requests == []
