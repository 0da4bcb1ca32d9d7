"""The wall display in Chromium at 1920x1080, every outside request blocked: it fills the screen,
cycles through the towns by itself showing no personal data in any frame of any view, keeps its
last values with a banner while the database is down, and comes back after the app restarts."""

from __future__ import annotations

import base64
import os
import subprocess
import time
import uuid
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from minqing import accounts
from minqing.models import Cadre, GroupMember, Household, HouseholdMember, Town
from minqing.scope import Scope
from minqing.store import get_engine
from tests.auth import viewer_for
from tests.browser.conftest import ARTIFACTS, _free_port, start_app

pytestmark = pytest.mark.browser

DWELL = 5
WALL = ".mq-wall[data-count]"


def _link(url: str) -> str:
    """The query string of a display link for the demo's display account."""
    account = viewer_for("display", url).account_id
    token = accounts.create_display_token(get_engine(url), by=Scope.district(),
                                          account_id=account, label="browser test")
    return f"token={token}&dwell={DWELL}"


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def display_app(browser_demo_url):
    """An app process of its own (this module restarts and starves it), on a known port."""
    port = _free_port()
    proc, base = start_app(browser_demo_url, port=port)
    handle = {"proc": proc, "base": base, "port": port, "url": browser_demo_url,
              "link": _link(browser_demo_url)}
    yield handle
    _stop(handle["proc"])


def _personal_data(url: str) -> set[str]:
    """Names, phones and ID numbers of every household, resident, service-group member and cadre."""
    engine = get_engine(url)
    columns = (Household.head_name, Household.phone, Household.id_number, HouseholdMember.name,
               GroupMember.name, GroupMember.phone, Cadre.name, Cadre.phone)
    with engine.connect() as conn:
        return {v for column in columns for v in conn.scalars(select(column)) if v}


def _town_order(url: str) -> list[str]:
    with get_engine(url).connect() as conn:
        return [f"town-{i}" for i in conn.scalars(select(Town.id).order_by(Town.code))]


def _frame_texts(page) -> list[str]:
    """The markup and visible text of every frame, plus every SVG image decoded."""
    texts = []
    for frame in page.frames:
        markup, text, sources = frame.evaluate(
            "() => [document.documentElement.outerHTML, document.body.innerText,"
            " [...document.querySelectorAll('img')].map(i => i.src)]")
        texts += [markup, text]
        for src in sources:
            if src.startswith("data:image/svg+xml;base64,"):
                texts.append(base64.b64decode(src.split(",", 1)[1]).decode())
            elif src.startswith("data:"):
                texts.append(unquote(src))
    return texts


def _next_view(page, previous: str | None) -> tuple[str, str]:
    page.wait_for_function(
        "(prev) => { const w = document.querySelector('.mq-wall[data-count]');"
        " return w && w.dataset.count !== prev; }", arg=previous, timeout=DWELL * 8_000)
    wall = page.locator(WALL)
    return wall.get_attribute("data-view"), wall.get_attribute("data-count")


def test_fills_the_screen_cycles_every_town_and_shows_no_personal_data(page, display_app):
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{display_app['base']}/display?{display_app['link']}")
    page.wait_for_selector(WALL)
    chrome = page.evaluate("""() => {
        const shown = s => [...document.querySelectorAll(s)].some(e => e.offsetParent !== null);
        const w = document.querySelector('.mq-wall').getBoundingClientRect();
        const d = document.documentElement;
        return {sidebar: shown('[data-testid=stSidebar]'), header: shown('header[data-testid=stHeader]'),
                toolbar: shown('[data-testid=stToolbar]'), width: w.width, height: w.height,
                scrolls: d.scrollHeight > innerHeight || d.scrollWidth > innerWidth};
    }""")
    assert chrome == {"sidebar": False, "header": False, "toolbar": False, "width": 1920,
                      "height": 1080, "scrolls": False}

    personal = _personal_data(display_app["url"])
    assert len(personal) > 1000  # the check below means something
    towns = _town_order(display_app["url"])
    seen: list[str] = []
    count = None
    while seen[-1:] != ["district"] or len(seen) < len(towns) + 2:
        view, count = _next_view(page, count)
        seen.append(view)
        texts = _frame_texts(page)
        leaks = sorted(p for p in personal if any(p in text for text in texts))
        assert not leaks, f"personal data on the display in view {view}: {leaks[:10]}"
        if view == "district" and seen.count("district") == 1:
            page.screenshot(path=str(ARTIFACTS / "display-1920.png"))
    start = seen.index("district")
    assert seen[start:start + len(towns) + 2] == ["district", *towns, "district"]
    assert not page.blocked_requests


def test_comes_back_by_itself_after_the_app_restarts(page, display_app):
    page.goto(f"{display_app['base']}/display?{display_app['link']}")
    _next_view(page, None)
    _stop(display_app["proc"])
    page.wait_for_selector(".mq-offline", state="visible", timeout=30_000)
    assert page.locator(WALL).get_attribute("data-view")  # the last screen stays up
    assert page.locator(".counters").inner_text()
    display_app["proc"], _ = start_app(display_app["url"], port=display_app["port"])
    started = time.monotonic()
    page.wait_for_selector(".mq-offline", state="hidden", timeout=60_000)
    _next_view(page, page.locator(WALL).get_attribute("data-count"))  # ticking again
    assert time.monotonic() - started < 60
    assert not page.locator("[data-testid=stException]").count()


@pytest.fixture
def pg_display_app(tmp_path):
    """The small demo on its own PostgreSQL database, served with a 2-second data check."""
    pg_url = os.environ.get("MINQING_TEST_PG_URL")
    if not pg_url:
        pytest.skip("needs MINQING_TEST_PG_URL: a SQLite file cannot be taken away from a "
                    "process that has it open")
    import psycopg

    from minqing.demo import build
    from tests.conftest import AS_OF

    name = f"mq_display_{uuid.uuid4().hex[:8]}"
    admin_url = pg_url.replace("postgresql+psycopg://", "postgresql://")
    admin = psycopg.connect(admin_url, autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    url = f"{pg_url.rsplit('/', 1)[0]}/{name}"
    build(url, scale="small", seed=7, as_of=AS_OF, progress=False)
    get_engine(url).dispose()
    link = _link(url)
    get_engine(url).dispose()
    proc, base = start_app(url, extra_env={"MINQING_DISPLAY_CHECK_S": "2"})
    yield {"base": base, "admin": admin, "name": name, "link": link}
    _stop(proc)
    admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


def test_keeps_last_values_with_a_banner_while_the_database_is_down(page, pg_display_app):
    admin, name = pg_display_app["admin"], pg_display_app["name"]
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{pg_display_app['base']}/display?{pg_display_app['link']}")
    view, count = _next_view(page, None)
    assert view == "district"
    before = page.locator(".counters").inner_text()
    admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                  (name,))
    page.wait_for_selector(".mq-wall .banner", timeout=30_000)
    assert "数据截至" in page.locator(".mq-wall .banner").inner_text()
    view, count = _next_view(page, count)
    while view != "district":  # still cycling, round to the district again
        view, count = _next_view(page, count)
    assert page.locator(".mq-wall .banner").count() == 1
    assert page.locator(".counters").inner_text() == before  # the last good values
    page.screenshot(path=str(ARTIFACTS / "display-database-down.png"))
    assert not page.locator("[data-testid=stException]").count()
    admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
    page.wait_for_selector(".mq-wall .banner", state="detached", timeout=30_000)
    assert not page.locator("[data-testid=stException]").count()
