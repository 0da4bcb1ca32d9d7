"""Browser fixtures: the app served by ``streamlit run`` over a small demo database, and a
Chromium page that blocks every request leaving localhost (the offline promise).

In CI (``CI`` set) a missing Chromium or Playwright is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"  # screenshots for a human to look at; git-ignored
CHROMIUM = os.environ.get("MINQING_CHROMIUM", "/usr/bin/chromium")
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def _require(condition: bool, why: str) -> None:
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {why}")
    pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(db_url: str, *, extra_env: dict[str, str] | None = None,
              port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``streamlit run serve.py`` (the app as served) on ``port`` (default: a free one) and
    wait until it answers."""
    port = port or _free_port()
    env = {**os.environ, "MINQING_DATABASE_URL": db_url, **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    raise RuntimeError(f"app did not start:\n{out[-3000:]}")


@pytest.fixture(scope="session")
def browser_demo_url(tmp_path_factory) -> str:
    from minqing.demo import build
    from minqing.store import get_engine
    from tests.conftest import AS_OF

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}"
    build(url, scale="small", seed=7, as_of=AS_OF, progress=False)
    get_engine(url).dispose()
    return url


@pytest.fixture(scope="session")
def app_url(browser_demo_url) -> Iterator[str]:
    """Base URL of a running app over the small demo district."""
    proc, base = start_app(browser_demo_url)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _require(False, "playwright is not installed")
    _require(Path(CHROMIUM).exists() or bool(shutil.which("chromium")), f"{CHROMIUM} not found")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class OutsideRequests(list):
    """Every request that tried to leave localhost (and was aborted)."""


@pytest.fixture
def page(browser) -> Iterator:
    """A page whose context aborts any request to a host other than localhost."""
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    blocked = OutsideRequests()

    def _route(route):
        host = urlparse(route.request.url).hostname or ""
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", _route)
    page = context.new_page()
    page.blocked_requests = blocked
    page.set_default_timeout(60_000)  # generous: CI machines are small and noisy
    yield page
    context.close()


@pytest.fixture
def sign_in_as(page, app_url, browser_demo_url):
    """``sign_in_as("town_supervisor")``: the page's browser is signed in as that role's demo
    account (a signed session cookie, as the sign-in form leaves it). See tests/auth.py."""
    from tests.auth import session_cookie

    def _sign_in(role: str = "district_supervisor") -> None:
        page.context.add_cookies([session_cookie(role, browser_demo_url, app_url)])

    return _sign_in


def wait_for_app(page) -> None:
    """Wait until Streamlit has finished its run (no running indicator, app view present)."""
    page.wait_for_selector("[data-testid='stApp']", state="attached")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"] [data-testid=\"stStatusWidgetRunningIcon\"]')"
    )
    page.wait_for_timeout(300)
