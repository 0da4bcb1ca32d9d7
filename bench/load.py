"""Benchmark: server capacity — CPU per page view, and the map under 8 sessions at once.

    python bench/load.py [--url URL] [--views 6] [--rounds 3] [--sessions 8] [--timeout 120]

Starts the app on the full-scale demo (``data/minqing.db`` unless ``--url``; built if absent) and,
in the same run, a bare one-line Streamlit page as the floor. Every view is a fresh browser
context (no HTTP cache, a new Streamlit session, signed in as the demo's district supervisor) in
headless Chromium with every request outside localhost blocked; a view ends when the page has drawn (the map's grid polygons; the grid page's
title and map; the bare page's text) and the server has gone idle.

- ``*_view_server_cpu_s``: the server process's CPU time (user + system, from /proc) per view,
  median over ``--rounds`` rounds of ``--views`` sequential views, after one warm-up view
  (caches filled: what every later visitor costs);
- ``map_over_bare``, ``grid_over_bare``: those against the bare page (goal: at most 2.0);
- ``bare_served_view_server_cpu_s``, ``map_over_bare_served``, ``grid_over_bare_served``: the
  same bare page served the way the app is (``serve.py``: Streamlit's ASGI app with the frontend
  bundles answered from memory, :mod:`minqing.bundles`), so the floor is also shown without that
  cache's help;
- ``concurrent_map_p95_s``: ``--sessions`` fresh browsers open the map at once; seconds until
  each has drawn it, 95th percentile. The browsers run on this machine too:
  ``concurrent_server_cpu_s`` is the app server's CPU time over that phase and
  ``concurrent_machine_cpu_s`` the whole machine's (every core's busy time, /proc/stat), so the
  share the server had in the wait is on record;
- ``errors``: views that failed to draw in ``--timeout`` or showed an exception;
- ``server_rss_growth_mb``: the app server's resident memory after all views minus after the
  warm-up (goal: at most 50).

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = os.environ.get("MINQING_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
TICK = os.sysconf("SC_CLK_TCK")
BARE = 'import streamlit as st\n\nst.write("bare page")\n'
BARE_SERVED = """import streamlit as st
from starlette.middleware import Middleware
from streamlit import file_util

from minqing.bundles import BundleCache

app = st.App("bare.py", middleware=[Middleware(
    lambda inner: BundleCache(inner, static_dir=file_util.get_static_dir(), base_url_path=""))])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(script: Path, cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--browser.serverAddress", "localhost",
         "--server.fileWatcherType", "none"],
        cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{script} did not start")


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _machine_cpu_s() -> float:
    """Busy time of every core since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / TICK


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _idle(page) -> None:
    await page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')")


def _session_cookie(db_url: str, base: str) -> dict:
    """A signed-in session of the demo's district supervisor, as the sign-in form leaves it."""
    from sqlalchemy import select

    from minqing import accounts
    from minqing.demo.accounts import DEMO_ACCOUNTS
    from minqing.models import Account
    from minqing.store import get_engine
    from ui.auth import COOKIE

    engine = get_engine(db_url)
    name = next(a.username for a in DEMO_ACCOUNTS if a.role == "district_supervisor")
    with engine.connect() as conn:
        account_id = conn.scalar(select(Account.id).where(Account.username == name))
    token = accounts.open_token(engine, account_id)
    return {"name": COOKIE, "value": accounts.sign(token, accounts.signing_key(engine)),
            "url": base}


async def _view(browser, url: str, kind: str, timeout_ms: int, cookie: dict | None = None) -> bool:
    """One fresh-browser view (signed in with ``cookie``), until drawn; False when it failed."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    if cookie:
        await context.add_cookies([cookie])

    async def route(r):
        host = urlparse(r.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost") or r.request.url.startswith(("data:", "blob:")):
            await r.continue_()
        else:
            await r.abort()

    await context.route("**/*", route)
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    try:
        await page.goto(url)
        if kind.startswith("bare"):
            await page.get_by_text("bare page").wait_for()
        else:
            if kind == "grid":
                await page.locator("h1").first.wait_for()
            frame = page.frame_locator("iframe[title*='st_folium']").first
            await frame.locator("path").first.wait_for(state="attached")
        await _idle(page)
        return await page.locator("[data-testid='stException']").count() == 0
    except Exception:  # a timeout or a crashed page: counted, not fatal
        return False
    finally:
        await context.close()


async def _round(browser, pid: int, url: str, kind: str, views: int, timeout_ms: int,
                 cookie: dict | None):
    await asyncio.sleep(1.0)
    before = _cpu_s(pid)
    ok = [await _view(browser, url, kind, timeout_ms, cookie) for _ in range(views)]
    await asyncio.sleep(1.5)  # let the server finish the sessions' last messages
    return (_cpu_s(pid) - before) / views, ok.count(False)


async def _concurrent(browser, url: str, sessions: int, timeout_ms: int, cookie: dict):
    async def one():
        start = time.monotonic()
        ok = await _view(browser, url, "map", timeout_ms, cookie)
        return time.monotonic() - start, ok

    results = await asyncio.gather(*(one() for _ in range(sessions)))
    return [s for s, _ in results], sum(not ok for _, ok in results)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    k = 0.95 * (len(ordered) - 1)
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _grid_id(url: str) -> int:
    from sqlalchemy import select

    from minqing.models import Grid
    from minqing.store import get_engine

    with get_engine(url).connect() as conn:
        return conn.scalar(select(Grid.id).order_by(Grid.id).limit(1).offset(100))


async def _run(args) -> dict:
    from playwright.async_api import async_playwright

    timeout_ms = int(args.timeout * 1000)
    env = {"MINQING_DATABASE_URL": args.url}
    app, app_base = _serve(ROOT / "serve.py", ROOT, env)
    bare_dir = Path(tempfile.mkdtemp(prefix="minqing-bare-"))
    (bare_dir / "bare.py").write_text(BARE)
    (bare_dir / "serve_bare.py").write_text(BARE_SERVED)
    bare, bare_base = _serve(bare_dir / "bare.py", bare_dir, {})
    served, served_base = _serve(bare_dir / "serve_bare.py", bare_dir, {"PYTHONPATH": str(ROOT)})
    cookie = _session_cookie(args.url, app_base)
    targets = {"map": (app, f"{app_base}/map", cookie),
               "grid": (app, f"{app_base}/grid?grid={_grid_id(args.url)}", cookie),
               "bare": (bare, f"{bare_base}/", None),
               "bare_served": (served, f"{served_base}/", None)}
    errors, cpu = 0, {kind: [] for kind in targets}
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            for kind, (_proc, url, login) in targets.items():  # warm-up: caches filled once
                errors += not await _view(browser, url, kind, timeout_ms, login)
            rss_start = _rss_mb(app.pid)
            for _ in range(args.rounds):
                for kind, (proc, url, login) in targets.items():
                    per_view, failed = await _round(browser, proc.pid, url, kind, args.views,
                                                    timeout_ms, login)
                    cpu[kind].append(per_view)
                    errors += failed
            server_before, machine_before = _cpu_s(app.pid), _machine_cpu_s()
            times, failed = await _concurrent(browser, targets["map"][1], args.sessions,
                                              timeout_ms, cookie)
            concurrent_cpu = (_cpu_s(app.pid) - server_before, _machine_cpu_s() - machine_before)
            errors += failed
            await asyncio.sleep(1.5)
            rss_growth = _rss_mb(app.pid) - rss_start
            await browser.close()
    finally:
        for proc in (app, bare, served):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    med = {kind: statistics.median(values) for kind, values in cpu.items()}
    return {
        "map_view_server_cpu_s": round(med["map"], 3),
        "grid_view_server_cpu_s": round(med["grid"], 3),
        "bare_view_server_cpu_s": round(med["bare"], 3),
        "map_over_bare": round(med["map"] / med["bare"], 2),
        "grid_over_bare": round(med["grid"] / med["bare"], 2),
        "bare_served_view_server_cpu_s": round(med["bare_served"], 3),
        "map_over_bare_served": round(med["map"] / med["bare_served"], 2),
        "grid_over_bare_served": round(med["grid"] / med["bare_served"], 2),
        "concurrent_sessions": args.sessions,
        "concurrent_map_p50_s": round(statistics.median(times), 2),
        "concurrent_map_p95_s": round(_p95(times), 2),
        "concurrent_server_cpu_s": round(concurrent_cpu[0], 2),
        "concurrent_machine_cpu_s": round(concurrent_cpu[1], 2),
        "errors": errors,
        "server_rss_growth_mb": round(rss_growth, 1),
        "rounds": {kind: [round(v, 3) for v in values] for kind, values in cpu.items()},
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=f"sqlite:///{ROOT / 'data' / 'minqing.db'}")
    parser.add_argument("--views", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    if args.url.startswith("sqlite:///") and not Path(args.url[len("sqlite:///"):]).exists():
        from minqing.demo import build

        build(args.url, scale="full", progress=False)
    result = asyncio.run(_run(args))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
