"""Soak and load of the wall display (/display): one screen for a long while, then ten at once.

    python bench/display_soak.py [--url URL] [--minutes 10] [--concurrent-minutes 3]
                                 [--displays 10] [--dwell 5] [--warmup 60] [--quick]

Starts its own app process over the demo district (``--url``, default the configured database),
makes a display link for the demo's ``display`` account (revoked at the end) and starts headless
Chromium with every request outside localhost blocked, then:

1. one display at 1920x1080 with ``dwell`` seconds per view for ``--minutes``;
2. ``--displays`` displays at once (each in its own browser context) for ``--concurrent-minutes``.

Measured in the same run:

- ``cycles``: full rounds (district, every town, district again) of the single display;
  ``towns_shown`` / ``towns_total``: distinct towns it showed;
- ``errors``: exception boxes, page errors, displays that showed a "reconnecting" or "data as of"
  banner, and views that did not change within three dwells (any display, both phases), counted
  by kind in ``error_kinds``;
- ``server_rss_growth_mb``: the app process's resident memory at the end of phase 1 minus after
  ``--warmup`` seconds of it; ``browser_heap_growth_mb``: the page's used JS heap after a forced
  garbage collection, same two moments;
- ``view_switch_p95_s``: for each view change, the time from the browser sending the timer's rerun
  request to the next frame after the new view is in the DOM; p95 over phase 1 (and
  ``concurrent_switch_p95_s`` over every display in phase 2); ``concurrent_vs_alone_ratio`` is
  the ratio of the two (the baseline is the single display of the same run).

Bars (issue 10): 0 errors, every town shown, growth <= 50 MB each, p95 <= 2 s alone and <= 4 s
with ten displays. It stops by itself; the last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("MINQING_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
LOCAL = {"localhost", "127.0.0.1", "::1", "[::1]"}

# Installed before the app's own scripts: stamps every websocket send (the timer's rerun request
# is one) and every change of the wall's view, at the next animation frame.
_PROBE = """
(() => {
  const probe = window.__mq = {sends: [], views: [], banners: 0};
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) { probe.sends.push(performance.now()); return send.call(this, data); };
  let last = null;
  new MutationObserver(() => {
    const wall = document.querySelector('.mq-wall[data-count]');
    if (document.querySelector('.mq-wall .banner') ||
        [...document.querySelectorAll('.mq-offline')].some(e => getComputedStyle(e).display !== 'none')) {
      probe.banners += 1;
    }
    if (!wall || wall.dataset.count === last) return;
    last = wall.dataset.count;
    const view = wall.dataset.view;
    requestAnimationFrame(() => probe.views.push([performance.now(), view, last]));
  }).observe(document, {subtree: true, childList: true, attributes: true});
})();
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_app(db_url: str | None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ}
    if db_url:
        env["MINQING_DATABASE_URL"] = db_url
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                return proc, base
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the app did not start")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Display:
    """One browser context showing the display, with its probe and error counters."""

    def __init__(self, browser, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1920, "height": 1080},
                                           locale="zh-CN")
        self.blocked: list[str] = []
        self.page_errors: list[str] = []
        self.context.route("**/*", self._route)
        self.context.add_init_script(_PROBE)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        self.page.goto(url)
        self.page.wait_for_selector(".mq-wall[data-count]", timeout=120_000)

    def _route(self, route) -> None:
        url = route.request.url
        if (urlparse(url).hostname or "") in LOCAL or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def heap_mb(self) -> float:
        cdp = self.context.new_cdp_session(self.page)
        cdp.send("HeapProfiler.collectGarbage")
        cdp.send("Performance.enable")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        cdp.detach()
        return metrics["JSHeapUsedSize"] / 1e6

    def probe(self) -> dict:
        return self.page.evaluate("() => window.__mq")

    def exceptions(self) -> int:
        return self.page.locator("[data-testid='stException']").count()


def _switch_times(probe: dict, dwell: float) -> list[float]:
    """Seconds from the last rerun request before each view change to that change on screen."""
    sends = np.array(probe["sends"])
    out = []
    for t, _view, _count in probe["views"][1:]:  # the first view is the page load, not a switch
        earlier = sends[(sends < t) & (sends > t - 1000 * dwell * 1.5)]
        if earlier.size:
            out.append((t - earlier.max()) / 1000)
    return out


def _stalls(probe: dict, dwell: float) -> int:
    """View changes that came more than three dwells after the previous one."""
    times = [v[0] for v in probe["views"]]
    return int(sum(1 for a, b in itertools.pairwise(times) if b - a > 3000 * dwell))


def _cycles(views: list[str], towns: int) -> tuple[int, set[str]]:
    shown = {v for v in views if v.startswith("town-")}
    cycles, run = 0, []
    for view in views:
        if view == "district":
            if len(run) == towns:
                cycles += 1
            run = []
        else:
            run.append(view)
    return cycles, shown


def _p95(values: list[float]) -> float | None:
    return round(float(np.percentile(values, 95)), 3) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: the configured one)")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--concurrent-minutes", type=float, default=3)
    parser.add_argument("--displays", type=int, default=10)
    parser.add_argument("--dwell", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=60)
    parser.add_argument("--quick", action="store_true",
                        help="a two-minute smoke run: 1.5 + 0.5 minutes, 3 displays, 20 s warm-up")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.concurrent_minutes, args.displays, args.warmup = 1.5, 0.5, 3, 20

    from playwright.sync_api import sync_playwright
    from sqlalchemy import func, select

    from minqing import accounts
    from minqing.access import Role
    from minqing.models import Account, Town
    from minqing.scope import Scope
    from minqing.store import get_engine

    engine = get_engine(args.url)
    with engine.connect() as conn:
        towns = int(conn.scalar(select(func.count()).select_from(Town)))
        account = conn.scalar(select(Account.id).where(Account.role == Role.DISPLAY.value))
    if account is None:
        raise SystemExit("no display account in the store (the demo has one: minqing demo)")
    token = accounts.create_display_token(engine, by=Scope.district(), account_id=account,
                                          label="display soak")
    engine.dispose()
    load_before = os.getloadavg()[0]
    proc, base = _start_app(args.url)
    url = f"{base}/display?token={token}&dwell={args.dwell}"
    result: dict = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
            alone = Display(browser, url)
            start = time.monotonic()
            time.sleep(args.warmup)
            rss_base, heap_base = _rss_mb(proc.pid), alone.heap_mb()
            while time.monotonic() - start < args.minutes * 60:
                time.sleep(5)
            rss_end, heap_end = _rss_mb(proc.pid), alone.heap_mb()
            first = alone.probe()
            kinds = {"page_errors": len(alone.page_errors), "exceptions": alone.exceptions(),
                     "banners": int(first["banners"] > 0), "stalls": _stalls(first, args.dwell)}
            views = [v[1] for v in first["views"]]
            cycles, shown = _cycles(views, towns)
            switch = _switch_times(first, args.dwell)
            blocked = list(alone.blocked)
            alone.context.close()

            crowd = [Display(browser, url) for _ in range(args.displays)]
            start = time.monotonic()
            rss_peak = 0.0
            while time.monotonic() - start < args.concurrent_minutes * 60:
                rss_peak = max(rss_peak, _rss_mb(proc.pid))
                time.sleep(5)
            crowd_switch: list[float] = []
            for display in crowd:
                probe = display.probe()
                crowd_switch += _switch_times(probe, args.dwell)
                kinds["page_errors"] += len(display.page_errors)
                kinds["exceptions"] += display.exceptions()
                kinds["banners"] += int(probe["banners"] > 0)
                kinds["stalls"] += _stalls(probe, args.dwell)
                blocked += display.blocked
                display.context.close()
            browser.close()
        alone_p95, crowd_p95 = _p95(switch), _p95(crowd_switch)
        result = {
            "cycles": cycles,
            "towns_shown": len(shown),
            "towns_total": towns,
            "errors": sum(kinds.values()),
            "error_kinds": kinds,
            "server_rss_growth_mb": round(rss_end - rss_base, 1),
            "server_rss_mb": round(rss_end, 1),
            "server_rss_concurrent_peak_mb": round(rss_peak, 1),
            "browser_heap_growth_mb": round(heap_end - heap_base, 1),
            "view_switch_p95_s": alone_p95,
            "view_switch_median_s": round(float(np.median(switch)), 3) if switch else None,
            "view_switches": len(switch),
            "concurrent_displays": args.displays,
            "concurrent_switch_p95_s": crowd_p95,
            "concurrent_switches": len(crowd_switch),
            "concurrent_vs_alone_ratio": (round(crowd_p95 / alone_p95, 2)
                                          if alone_p95 and crowd_p95 else None),
            "outside_requests": len(blocked),
            "minutes": args.minutes,
            "concurrent_minutes": args.concurrent_minutes,
            "dwell_s": args.dwell,
            "load_avg_1m_before": round(load_before, 2),
            "load_avg_1m_after": round(os.getloadavg()[0], 2),
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        tokens = accounts.display_tokens(engine, scope=Scope.district())
        mine = (tokens["label"] == "display soak") & tokens["revoked_at"].isna()
        for token_id in tokens.loc[mine, "id"]:
            accounts.revoke_display_token(engine, by=Scope.district(), token_id=int(token_id))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
