"""The frontend bundle cache answers exactly the listed files, from memory, and nothing else."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from minqing.bundles import CACHE_CONTROL, BundleCache

PASSED = b"passed on"


async def _inner(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": PASSED})


def _ask(app, path: str, *, method: str = "GET", query: bytes = b"",
         headers: list[tuple[bytes, bytes]] | None = None, kind: str = "http") -> dict:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    scope = {"type": kind, "method": method, "path": path, "query_string": query,
             "headers": headers or []}
    # in a thread of its own: Playwright's sync API (the browser tests, same session) keeps an
    # event loop running in the main thread, where asyncio.run() refuses to start another
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    return {"status": sent[0]["status"], "headers": dict(sent[0]["headers"]),
            "body": b"".join(m.get("body", b"") for m in sent[1:])}


@pytest.fixture
def static(tmp_path):
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "static" / "media").mkdir()
    (tmp_path / "static" / "js" / "index.Ab12.js").write_text("console.log('中')")
    (tmp_path / "static" / "media" / "font.Cd34.woff2").write_bytes(b"\x00\x01")
    (tmp_path / "index.html").write_text("<html>")
    return tmp_path


def test_a_listed_bundle_is_answered_from_memory_with_streamlits_caching_headers(static):
    app = BundleCache(_inner, static_dir=str(static), base_url_path="")
    first = _ask(app, "/static/js/index.Ab12.js")
    assert first["status"] == 200
    assert first["body"] == "console.log('中')".encode()
    assert first["headers"][b"cache-control"] == CACHE_CONTROL
    assert first["headers"][b"content-length"] == str(len(first["body"])).encode()
    assert first["headers"][b"content-type"].endswith(b"javascript; charset=utf-8")
    (static / "static" / "js" / "index.Ab12.js").unlink()  # read once: later answers need no file
    assert _ask(app, "/static/js/index.Ab12.js")["body"] == first["body"]
    assert _ask(app, "/static/media/font.Cd34.woff2")["body"] == b"\x00\x01"


def test_a_browser_holding_the_file_gets_not_modified_and_head_gets_no_body(static):
    app = BundleCache(_inner, static_dir=str(static), base_url_path="")
    etag = _ask(app, "/static/js/index.Ab12.js")["headers"][b"etag"]
    again = _ask(app, "/static/js/index.Ab12.js", headers=[(b"if-none-match", etag)])
    assert (again["status"], again["body"]) == (304, b"")
    other = _ask(app, "/static/js/index.Ab12.js", headers=[(b"if-none-match", b'"old"')])
    assert other["status"] == 200
    head = _ask(app, "/static/js/index.Ab12.js", method="HEAD")
    assert (head["status"], head["body"]) == (200, b"")
    assert head["headers"][b"content-length"] == str(len("console.log('中')".encode())).encode()


@pytest.mark.parametrize(("path", "extra"), [
    ("/static/js/missing.js", {}),
    ("/index.html", {}),
    ("/static/js/../../index.html", {}),
    ("/static//js/index.Ab12.js", {}),
    ("/static/js/index.Ab12.js", {"query": b"v=2"}),
    ("/static/js/index.Ab12.js", {"method": "POST"}),
    ("/static/js/index.Ab12.js", {"kind": "websocket"}),
    ("/mq/static/js/index.Ab12.js", {}),
])
def test_anything_but_a_listed_file_asked_plainly_goes_on_to_streamlit(static, path, extra):
    app = BundleCache(_inner, static_dir=str(static), base_url_path="")
    assert _ask(app, path, **extra)["body"] == PASSED


def test_the_base_url_path_prefixes_every_answered_path(static):
    app = BundleCache(_inner, static_dir=str(static), base_url_path="/mq/")
    assert _ask(app, "/mq/static/js/index.Ab12.js")["status"] == 200
    assert _ask(app, "/static/js/index.Ab12.js")["body"] == PASSED
