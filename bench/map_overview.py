"""Benchmark: the district map (一张图) at full scale against the naive folium map.

    python bench/map_overview.py [--url URL] [--runs 3] [--timeout 60] [--no-browser]

On the full demo district (built into a temporary SQLite file unless ``--url`` points at one):

- ``build_s``: server build of our page's district map from the database with empty caches —
  queries, simplified geometry, tooltip data, classes, folium map and st_folium's payload;
  ``warm_build_s``: the same with the page's cached layers (a rerun or a metric change);
- ``baseline_build_s``: the naive page's build — folium ``GeoJson`` of every grid plus every
  household as a point feature, and st_folium's payload; ``build_speedup`` is the ratio
  (bar: >= 20);
- ``payload_mb``: bytes (1e6) of everything st_folium sends the browser for the district view
  (script, header, html, feature groups; bar: <= 2);
- ``visible_s`` / ``baseline_visible_s``: headless Chromium (every request outside localhost
  blocked), seconds from navigation until every grid polygon is drawn, median of ``--runs``
  navigations to a running app in one browser profile after one warm-up (bar: visible_s <= 3);
  ``visible_fresh_browser_s``: one navigation from a fresh profile (empty HTTP cache). The
  baseline app is a tiny streamlit script started here, each navigation in its own browser
  (its renderer stays busy for minutes); a navigation that does not finish within
  ``--timeout`` counts as the timeout and ``baseline_timed_out`` says so.
- ``street_points_payload_kb`` / ``pan_update_s``: the densest town zoomed to street level
  (zoom 16 over its busiest grid), then panned by 90% of the map a screen at a time: the median
  WebSocket bytes a pan brings (bar: <= 300 KB) and the median seconds from the pan until the
  new households are drawn (bar: <= 1.5); ``pan_households`` is the median drawn,
  ``street_attempts`` how many tries the first zoom to street level took (1 when nothing was
  lost).

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import folium
import geopandas as gpd
import streamlit_folium

from geo import district
from geo.assets import use_local_assets
from geo.basemap import resolve_basemap
from minqing import mapdata
from minqing.scope import Scope
from minqing.settings import Settings
from minqing.store import get_engine

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 20)
CHROMIUM = os.environ.get("MINQING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
LOCAL = {"localhost", "127.0.0.1", "::1", "[::1]"}

BASELINE_APP = textwrap.dedent('''
    """The naive district map: every grid and every household as GeoJSON features."""
    import datetime as dt

    import folium
    import geopandas as gpd
    import streamlit as st
    from streamlit_folium import st_folium

    from geo.assets import use_local_assets
    from minqing import mapdata
    from minqing.scope import Scope
    from minqing.store import get_engine

    st.set_page_config(layout="wide")
    use_local_assets()  # without it nothing at all is drawn offline


    @st.cache_resource
    def naive_map():
        engine, scope = get_engine(), Scope.district()
        grids = mapdata.grid_frame(engine, scope=scope)
        homes = mapdata.household_points(engine, scope=scope)
        points = gpd.GeoDataFrame(homes, geometry=gpd.points_from_xy(homes.lon, homes.lat),
                                  crs="EPSG:4326")
        m = folium.Map(location=[grids.geometry.union_all().centroid.y,
                                 grids.geometry.union_all().centroid.x], zoom_start=11, tiles=None)
        folium.GeoJson(grids[["grid_id", "name", "geometry"]]).add_to(m)
        folium.GeoJson(points[["household_id", "code", "geometry"]]).add_to(m)
        return m


    st_folium(naive_map(), key="naive", height=700, use_container_width=True,
              returned_objects=[])
''')


# --- server build ---------------------------------------------------------------------------


def _payload(m: folium.Map, groups: list[folium.FeatureGroup]) -> dict:
    """What st_folium would send the browser (its component call, captured)."""
    captured: dict = {}
    real = streamlit_folium._component_func
    streamlit_folium._component_func = lambda **kw: captured.update(kw)
    try:
        streamlit_folium.st_folium(m, key="bench", height=700, use_container_width=True,
                                   returned_objects=["last_active_drawing"],
                                   feature_group_to_add=groups or None)
    finally:
        streamlit_folium._component_func = real
    captured.pop("on_change", None)
    return captured


def _payload_bytes(payload: dict) -> int:
    return len(json.dumps(payload, ensure_ascii=False, default=str).encode())


def _source(engine) -> district.MapSource:
    return district.MapSource(engine, scope=Scope.district(), today=AS_OF, lang="zh")


def _ours(engine):
    """The page's district map from the database, caches empty (the default metric), built by
    the page's own builder (:func:`geo.district.district_map`)."""
    built = district.district_map(_source(engine), district.MapChoice(),
                                  resolve_basemap(Settings()))
    return built, _payload(built.map, built.layers)


def _warm(source: district.MapSource) -> dict:
    """A rerun with the page's caches filled (a metric change): classes, map shell, payload."""
    built = district.district_map(source, district.MapChoice("overdue_cases"),
                                  resolve_basemap(Settings()))
    return _payload(built.map, built.layers)


def _baseline(engine) -> dict:
    scope = Scope.district()
    grids = mapdata.grid_frame(engine, scope=scope)
    homes = mapdata.household_points(engine, scope=scope)
    points = gpd.GeoDataFrame(homes, geometry=gpd.points_from_xy(homes.lon, homes.lat),
                              crs="EPSG:4326")
    m = folium.Map(location=[30, 120], zoom_start=11, tiles=None)
    folium.GeoJson(grids[["grid_id", "name", "geometry"]]).add_to(m)
    folium.GeoJson(points[["household_id", "code", "geometry"]]).add_to(m)
    return _payload(m, [])


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def measure_build(url: str, runs: int) -> dict:
    use_local_assets()
    engine = get_engine(url)
    cold = []
    for _ in range(runs):
        seconds, (built, payload) = _timed(_ours, engine)
        cold.append(seconds)
    cached = _source(engine)  # its frames and base layers read once: the page's caches
    cached.base()
    warm = [_timed(_warm, cached)[0] for _ in range(runs)]
    baseline_s, baseline_payload = _timed(_baseline, engine)
    build_s = statistics.median(cold)
    return {
        "build_s": round(build_s, 3),
        "warm_build_s": round(statistics.median(warm), 3),
        "baseline_build_s": round(baseline_s, 2),
        "build_speedup": round(baseline_s / build_s, 1),
        "payload_mb": round(_payload_bytes(payload) / 1e6, 3),
        "baseline_payload_mb": round(_payload_bytes(baseline_payload) / 1e6, 1),
        "grids": len(built.classes.index),
    }


# --- browser --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(script: str, cwd: Path, url: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "MINQING_DATABASE_URL": url, "MINQING_TODAY": AS_OF.isoformat()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--server.enableStaticServing", "true", "--browser.gatherUsageStats", "false"],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                return proc, base
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"{script} did not start")


def _session_cookie(url: str, base: str) -> dict:
    """A signed session of the demo's district supervisor (what signing in leaves behind)."""
    from sqlalchemy import select

    from minqing import accounts
    from minqing.models import Account

    if str(ROOT) not in sys.path:  # ``ui`` is the app's folder, not an installed package
        sys.path.insert(0, str(ROOT))
    from ui.auth import COOKIE

    engine = get_engine(url)
    with engine.connect() as conn:
        account_id = conn.scalar(select(Account.id).where(Account.username == "district"))
    token = accounts.open_token(engine, account_id)
    return {"name": COOKIE, "value": accounts.sign(token, accounts.signing_key(engine)),
            "url": base}


def _context(browser, signed_in: tuple[str, str] | None = None):
    """A browser profile whose requests outside localhost are aborted (and reported), signed
    in to our app when ``signed_in`` is ``(database url, app base url)``."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    if signed_in is not None:
        context.add_cookies([_session_cookie(*signed_in)])

    def _route(route):
        host = urlparse(route.request.url).hostname or ""
        if host in LOCAL or route.request.url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            print(f"blocked outside request: {route.request.url}", file=sys.stderr)
            route.abort()

    context.route("**/*", _route)
    return context


def _navigate(page, url: str, selector: str, count: int, timeout_s: float) -> float | None:
    """Seconds from navigation until ``count`` elements match ``selector`` in the map iframe."""
    start = time.perf_counter()
    left = lambda: max(1.0, timeout_s - (time.perf_counter() - start)) * 1000  # noqa: E731
    try:
        page.goto(url, timeout=timeout_s * 1000)
        iframe = page.wait_for_selector("iframe[title='streamlit_folium.st_folium']",
                                        state="attached", timeout=left())
        iframe.content_frame().wait_for_function(
            "([sel, n]) => document.querySelectorAll(sel).length >= n",
            arg=[selector, count], timeout=left(), polling=20,
        )
        return time.perf_counter() - start
    except Exception:  # a timeout (or a page that never draws) is a result here
        return None


def _visible(browser, url: str, selector: str, count: int, runs: int, timeout_s: float,
             signed_in: tuple[str, str] | None = None) -> dict:
    """Median of ``runs`` navigations in one browser profile (its HTTP cache warm, as for a
    supervisor who opens the map every day), after a warm-up that also fills the server's
    caches; plus one navigation from a fresh profile (nothing cached in the browser)."""
    context = _context(browser, signed_in)
    page = context.new_page()
    _navigate(page, url, selector, count, timeout_s * 2)
    times = [_navigate(page, url, selector, count, timeout_s) for _ in range(runs)]
    context.close()
    fresh = _context(browser, signed_in)
    cold = _navigate(fresh.new_page(), url, selector, count, timeout_s)
    fresh.close()
    return {"median": statistics.median(timeout_s if t is None else t for t in times),
            "timed_out": any(t is None for t in times),
            "cold": timeout_s if cold is None else cold}


def probe(url: str, selector: str, count: int, timeout_s: float) -> None:
    """One navigation in its own browser; prints seconds (or ``timeout``). Run as a child
    process: Playwright's waits run inside the page, so a renderer stuck for minutes (the
    naive page) never times out by itself and only killing the process ends it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        seconds = _navigate(_context(browser).new_page(), url, selector, count, timeout_s)
        print("timeout" if seconds is None else f"{seconds:.3f}", flush=True)
        browser.close()


def _isolated(url: str, selector: str, count: int, runs: int, timeout_s: float) -> dict:
    """Baseline navigations, each a child process killed (with its browser) at the timeout."""
    times: list[float | None] = []
    for attempt in range(runs + 1):  # the first one is the warm-up (the server builds the map)
        limit = timeout_s * (2 if attempt == 0 else 1)
        proc = subprocess.Popen(
            [sys.executable, __file__, "--probe", url, selector, str(count), str(limit)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            start_new_session=True,
        )
        try:
            out, _ = proc.communicate(timeout=limit + 20)
            seconds = float(out.split()[-1]) if out.split() and out.split()[-1] != "timeout" \
                else None
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            seconds = None
        if attempt:
            times.append(seconds)
    return {"median": statistics.median(timeout_s if t is None else t for t in times),
            "timed_out": any(t is None for t in times)}


_PAN = """async ([dx, dy, limitMs]) => {
  const prev = window.mqHouseholds.seq, t0 = performance.now();
  window.map.panBy([dx, dy], {animate: false});
  await new Promise((resolve, reject) => {
    const tick = () => {
      if (window.mqHouseholds.seq > prev) { resolve(); }
      else if (performance.now() - t0 > limitMs) { reject(new Error("no new households")); }
      else { setTimeout(tick, 5); }
    };
    tick();
  });
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [performance.now() - t0, window.mqHouseholds.n, window.mqHouseholds.mode];
}"""


def _busiest(url: str) -> tuple[int, float, float]:
    """The town with the most households, and the mean position of its busiest grid."""
    from sqlalchemy import func, select

    from minqing.models import Household

    with get_engine(url).connect() as conn:
        town = conn.execute(select(Household.town_id).group_by(Household.town_id)
                            .order_by(func.count().desc()).limit(1)).scalar_one()
        lat, lon = conn.execute(
            select(func.avg(Household.lat), func.avg(Household.lon))
            .where(Household.town_id == town).group_by(Household.grid_id)
            .order_by(func.count().desc()).limit(1)).one()
    return int(town), float(lat), float(lon)


def _map_frame(page):
    """The map iframe's frame, looked up afresh (a handle kept across reruns can go stale)."""
    return page.locator("iframe[title='streamlit_folium.st_folium']").element_handle() \
        .content_frame()


def _street_view(page, lat: float, lon: float, timeout_s: float):
    """Zoom the map to street level at ``(lat, lon)`` and wait until households are drawn.

    Once the town's cells are drawn the map reports its first view, so the zoom may land while
    that rerun runs. Each attempt looks the frame up again and re-applies the view; a view that
    needed more than one attempt is reported (``street_attempts``), not hidden."""
    attempts = 0
    while True:
        attempts += 1
        frame = _map_frame(page)
        frame.wait_for_function("() => window.mqHouseholds", timeout=timeout_s * 1000)
        frame.evaluate(f"() => {{ window.map.setView([{lat}, {lon}], 16, {{animate: false}}); }}")
        try:
            frame.wait_for_function("() => window.mqHouseholds.mode === 'household'",
                                    timeout=timeout_s * 1000 / 3)
            return frame, attempts
        except Exception:  # a stale frame or a view the server never saw: try again
            if attempts == 3:
                raise
            page.wait_for_timeout(1000)


def measure_pans(browser, base: str, url: str, runs: int, timeout_s: float) -> dict:
    """Street view of the densest town: payload and time of a pan (see the module docstring)."""
    town, lat, lon = _busiest(url)
    context = _context(browser, (url, base))
    page = context.new_page()
    received = [0]
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda frame: received.__setitem__(0, received[0] + len(frame))))
    page.goto(f"{base}/map?town={town}&layers=households", timeout=timeout_s * 2000)
    page.wait_for_selector("iframe[title='streamlit_folium.st_folium']", state="attached",
                           timeout=timeout_s * 1000)
    frame, attempts = _street_view(page, lat, lon, timeout_s)
    width, height = frame.evaluate("() => [window.map.getSize().x, window.map.getSize().y]")
    steps = [(0.9 * width, 0), (0, 0.9 * height), (-0.9 * width, 0), (0, -0.9 * height)]
    times, sizes, counts = [], [], []
    for i in range(2 + runs * 3):
        page.wait_for_timeout(600)  # let the previous run settle
        before = received[0]
        ms, n, mode = frame.evaluate(_PAN, [*steps[i % 4], timeout_s * 1000])
        page.wait_for_timeout(300)  # frames still arriving for the same rerun
        if i >= 2:
            times.append(ms / 1000)
            sizes.append((received[0] - before) / 1000)
            counts.append(n if mode == "household" else 0)
    context.close()
    return {"street_points_payload_kb": round(statistics.median(sizes), 1),
            "pan_update_s": round(statistics.median(times), 2),
            "pan_update_max_s": round(max(times), 2),
            "pan_households": int(statistics.median(counts)),
            "street_attempts": attempts}


def measure_browser(url: str, grids: int, runs: int, timeout_s: float) -> dict:
    from playwright.sync_api import sync_playwright

    ours, ours_base = _start("serve.py", ROOT, url)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "static").symlink_to(ROOT / "static")
        (Path(tmp) / "naive.py").write_text(BASELINE_APP)
        naive, naive_base = _start("naive.py", Path(tmp), url)
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
                ours_v = _visible(browser, f"{ours_base}/map", "path.mq-grid", grids, runs,
                                  timeout_s, (url, ours_base))
                pans = measure_pans(browser, ours_base, url, runs, timeout_s)
                browser.close()
            base_v = _isolated(f"{naive_base}/", "path.leaflet-interactive", grids, runs,
                               timeout_s)
        finally:
            for proc in (ours, naive):
                proc.terminate()
                proc.wait(timeout=20)
    return {**pans,
            "visible_s": round(ours_v["median"], 2), "visible_timed_out": ours_v["timed_out"],
            "visible_fresh_browser_s": round(ours_v["cold"], 2),
            "baseline_visible_s": round(base_v["median"], 2),
            "baseline_timed_out": base_v["timed_out"]}


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--probe":
        probe(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: build the full demo in a temp file)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if not url:
            from minqing.demo import build

            url = f"sqlite:///{Path(tmp) / 'full.db'}"
            build(url, scale="full", seed=2026, as_of=AS_OF, progress=True)
        result = measure_build(url, args.runs)
        print(f"server build: ours {result['build_s']} s cold, {result['warm_build_s']} s warm; "
              f"baseline {result['baseline_build_s']} s", flush=True)
        if not args.no_browser:
            result |= measure_browser(url, result["grids"], args.runs, args.timeout)
        get_engine(url).dispose()
    result["machine_cores"] = os.cpu_count()
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
