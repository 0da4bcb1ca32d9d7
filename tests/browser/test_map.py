"""The district map in Chromium with every outside request blocked: grids drawn, click opens
the grid, metric change restyles in place, names are shown as text, households at street zoom
follow the view, the copied address reproduces it, the map's own controls work."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from minqing.models import Grid, Household
from minqing.scope import Scope
from minqing.store import get_engine
from tests.auth import session_cookie
from tests.browser.conftest import ARTIFACTS, start_app, wait_for_app
from ui.mapstate import format_view

pytestmark = pytest.mark.browser

MAP_IFRAME = "iframe[title='streamlit_folium.st_folium']"
EVIL = "<script>alert(1)</script>"


def _grids_of_town(url: str, town_id: int) -> dict[int, str]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(Grid.id, Grid.name).where(Scope.town(town_id).where(Grid)))
        return {row.id: row.name for row in rows}


def _first_town(url: str) -> int:
    with get_engine(url).connect() as conn:
        return conn.scalar(select(Grid.town_id).order_by(Grid.town_id).limit(1))


def _open_map(page, url: str):
    page.goto(url)
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator("path.mq-grid").first.wait_for()
    wait_for_app(page)
    return frame


def _clickable_grid(page) -> int:
    """Index of a grid path whose centre is not covered by another shape or label."""
    frame = page.locator(MAP_IFRAME).element_handle().content_frame()
    return frame.evaluate("""() => {
        const paths = [...document.querySelectorAll('path.mq-grid')];
        return paths.findIndex(p => { const b = p.getBoundingClientRect();
            return document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2) === p; });
    }""")


def test_town_grids_are_all_drawn_offline(page, app_url, browser_demo_url, sign_in_as):
    sign_in_as("district_supervisor")
    town_id = _first_town(browser_demo_url)
    grids = _grids_of_town(browser_demo_url, town_id)
    frame = _open_map(page, f"{app_url}/map?town={town_id}")
    assert frame.locator("path.mq-grid").count() == len(grids)
    assert frame.locator(".mq-legend").count() == 1
    assert page.blocked_requests == []


def test_clicking_a_grid_opens_its_page(page, app_url, browser_demo_url, sign_in_as):
    sign_in_as("district_supervisor")
    town_id = _first_town(browser_demo_url)
    grids = _grids_of_town(browser_demo_url, town_id)
    frame = _open_map(page, f"{app_url}/map?town={town_id}")
    index = _clickable_grid(page)
    assert index >= 0
    frame.locator("path.mq-grid").nth(index).click()
    page.wait_for_url(re.compile(r"/grid\?.*grid=\d+"), wait_until="commit")
    grid_id = int(re.search(r"grid=(\d+)", page.url).group(1))
    assert grid_id in grids
    page.get_by_text(grids[grid_id], exact=False).first.wait_for()
    assert page.blocked_requests == []


def test_metric_change_recolours_without_reloading_the_map(page, app_url, browser_demo_url, sign_in_as):
    sign_in_as("district_supervisor")
    town_id = _first_town(browser_demo_url)
    frame = _open_map(page, f"{app_url}/map?town={town_id}")
    fills = "els => els.map(e => e.getAttribute('fill')).join()"
    before = frame.locator("path.mq-grid").evaluate_all(fills)
    frame.locator("body").evaluate("() => { window.mqMarker = 1; }")
    page.get_by_label("着色指标").click()
    page.get_by_role("option", name="超期事项").click()
    page.wait_for_url(re.compile(r"metric=overdue_cases"), wait_until="commit")
    frame.locator(".mq-legend", has_text="超期事项").wait_for()
    assert frame.locator("path.mq-grid").evaluate_all(fills) != before
    # same document: the map was restyled in place, not rebuilt
    assert frame.locator("body").evaluate("() => window.mqMarker") == 1
    assert page.blocked_requests == []


def test_district_view_draws_every_grid(page, app_url, browser_demo_url, sign_in_as):
    sign_in_as("district_supervisor")
    with get_engine(browser_demo_url).connect() as conn:
        total = len(conn.execute(select(Grid.id)).all())
    frame = _open_map(page, f"{app_url}/map")
    frame.locator("path.mq-grid").nth(total - 1).wait_for(state="attached")
    assert frame.locator("path.mq-grid").count() == total
    assert frame.locator(".mq-town-label").count() >= 1
    assert page.blocked_requests == []


@pytest.fixture
def evil_app(browser_demo_url, tmp_path):
    """An app over a copy of the demo in which one grid and its leader are named like a script."""
    source = Path(browser_demo_url.split("///", 1)[1])
    copy = tmp_path / "evil.db"
    shutil.copy(source, copy)
    with sqlite3.connect(copy) as conn:
        grid_id, town_id = conn.execute("SELECT id, town_id FROM grids ORDER BY id LIMIT 1").fetchone()
        conn.execute("UPDATE grids SET name = ? WHERE id = ?", (EVIL, grid_id))
        conn.execute("UPDATE cadres SET name = ? WHERE id = (SELECT leader_cadre_id FROM "
                     "service_groups WHERE grid_id = ?)", (EVIL, grid_id))
    proc, base = start_app(f"sqlite:///{copy}")
    yield base, grid_id, town_id, f"sqlite:///{copy}"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_names_are_shown_as_text_never_run(page, evil_app):
    base, grid_id, town_id, url = evil_app
    page.context.add_cookies([session_cookie("district_supervisor", url, base)])
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    frame = _open_map(page, f"{base}/map?town={town_id}")
    inner = page.locator(MAP_IFRAME).element_handle().content_frame()
    # paths carry no id attribute: find the grid through Leaflet's layer and open its tooltip
    inner.evaluate(f"""() => {{ let target = null;
        window.mqGridLayer.eachLayer(l => {{ if (l.feature.properties.g === {grid_id}) target = l; }});
        target.openTooltip(target.getBounds().getCenter()); }}""")
    tooltip = frame.locator(".mq-tooltip")
    tooltip.first.wait_for()
    assert EVIL in tooltip.first.inner_text()
    assert frame.locator(".mq-tooltip script").count() == 0
    # the search box offers and finds the name as typed, as text
    search = frame.get_by_placeholder("搜索网格名称或编码")
    search.fill(EVIL)
    search.press("Enter")
    inner.wait_for_function(f"() => window.mqFocusedGrid === {grid_id}")
    assert frame.locator(f"datalist option[value^='{EVIL}']").count() == 1
    assert dialogs == []
    assert page.blocked_requests == []


def _busiest_grid(url: str) -> tuple[int, int, float, float]:
    """(town, grid, lat, lon) of the grid with the most households, at their mean position."""
    with get_engine(url).connect() as conn:
        row = conn.execute(
            select(Household.town_id, Household.grid_id, func.avg(Household.lat),
                   func.avg(Household.lon))
            .group_by(Household.town_id, Household.grid_id)
            .order_by(func.count().desc()).limit(1)).one()
    return int(row[0]), int(row[1]), float(row[2]), float(row[3])


def _map_frame(page):
    return page.locator(MAP_IFRAME).element_handle().content_frame()


def _households(frame) -> dict:
    return frame.evaluate("() => Object.assign({}, window.mqHouseholds || {})")


def test_street_zoom_shows_households_in_view_and_the_link_reproduces_it(
        page, app_url, browser_demo_url, sign_in_as):
    sign_in_as("district_supervisor")
    town_id, _grid, lat, lon = _busiest_grid(browser_demo_url)
    _open_map(page, f"{app_url}/map?town={town_id}&layers=households")
    frame = _map_frame(page)
    frame.wait_for_function("() => window.mqHouseholds")  # cells, or points if few in view
    before = _households(frame)["seq"]
    frame.evaluate(f"() => {{ window.map.setView([{lat}, {lon}], 16, {{animate: false}}); }}")
    frame.wait_for_function(f"() => window.mqHouseholds.seq > {before} "
                            "&& window.mqHouseholds.mode === 'household'")
    first = _households(frame)
    assert first["n"] > 0
    south, west, north, east = first["box"]
    assert south <= lat <= north
    assert west <= lon <= east
    # pan three screens east: a new area is fetched and drawn, the map is not rebuilt
    frame.evaluate("() => { window.mqMarker = 1; window.map.panBy([2400, 0], {animate: false}); }")
    frame.wait_for_function(f"() => window.mqHouseholds.seq > {first['seq']}")
    moved = _households(frame)
    assert moved["mode"] == "household"
    assert moved["box"][1] > west  # the box moved east with the view
    assert frame.evaluate("() => window.mqMarker") == 1
    centre = frame.evaluate("() => [window.map.getCenter().lat, window.map.getCenter().lng]")
    expected = format_view(*centre, 16)
    page.wait_for_url(lambda u: parse_qs(urlparse(u).query).get("view") == [expected],
                      wait_until="commit")
    link = page.url
    assert "layers=households" in link
    assert f"town={town_id}" in link
    # the copied address opens the same view, households drawn for it
    again = page.context.new_page()
    again.goto(link)
    again.frame_locator(MAP_IFRAME).locator("path.mq-grid").first.wait_for(state="attached")
    frame2 = _map_frame(again)
    frame2.wait_for_function("() => window.mqHouseholds && window.mqHouseholds.mode === 'household'")
    assert frame2.evaluate("() => window.map.getZoom()") == 16
    centre2 = frame2.evaluate("() => [window.map.getCenter().lat, window.map.getCenter().lng]")
    assert centre2 == pytest.approx(centre, abs=1e-4)
    again.screenshot(path=str(ARTIFACTS / "map_street_view.png"))
    assert page.blocked_requests == []


def test_the_opening_view_is_not_reported_until_it_matters(page, app_url, browser_demo_url,
                                                          sign_in_as):
    """Opening on the whole town with no households, the first report would only rerun the
    page for nothing: it is swallowed (the address gains no view). Households switched on
    afterwards ask for the view, and get the households in it (a small town: points)."""
    sign_in_as("district_supervisor")
    town_id = _first_town(browser_demo_url)
    sent: list[int] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda data: sent.append(len(data))))
    _open_map(page, f"{app_url}/map?town={town_id}")
    frame = _map_frame(page)
    page.wait_for_timeout(1500)  # st_folium reports within 250 ms of a move
    assert frame.evaluate("() => window.mqViewUnsent") is True
    assert "view=" not in page.url
    quiet = len(sent)
    page.get_by_role("button", name="住户", exact=True).click()
    frame.wait_for_function("() => window.mqHouseholds && window.mqHouseholds.mode === 'household'")
    assert len(sent) >= quiet + 2  # the overlay click, then the view the cells asked for
    assert frame.evaluate("() => window.mqViewUnsent") is False
    # the first real move is reported as usual
    frame.evaluate("() => { window.map.panBy([40, 0], {animate: false}); }")
    page.wait_for_url(re.compile(r"view="), wait_until="commit")
    assert page.blocked_requests == []


def test_map_controls_search_home_and_plain_attribution(page, app_url, browser_demo_url,
                                                        sign_in_as):
    sign_in_as("district_supervisor")
    town_id, grid_id, _lat, _lon = _busiest_grid(browser_demo_url)
    grids = _grids_of_town(browser_demo_url, town_id)
    _open_map(page, f"{app_url}/map?town={town_id}")
    frame = _map_frame(page)
    start = frame.evaluate("() => window.map.getZoom()")
    box = page.frame_locator(MAP_IFRAME).get_by_placeholder("搜索网格名称或编码")
    box.fill(grids[grid_id])
    box.press("Enter")
    frame.wait_for_function(f"() => window.mqFocusedGrid === {grid_id}")
    frame.wait_for_function(f"() => window.map.getZoom() > {start}")
    page.frame_locator(MAP_IFRAME).locator("button.mq-home").click()
    frame.wait_for_function(f"() => window.map.getZoom() === {start}")
    attribution = page.frame_locator(MAP_IFRAME).locator(".leaflet-control-attribution")
    assert "Leaflet" in attribution.inner_text()
    assert attribution.locator("svg").count() == 0  # no flag
    assert page.frame_locator(MAP_IFRAME).locator("button.mq-fullscreen").count() == 1
    assert page.blocked_requests == []
