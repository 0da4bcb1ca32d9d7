"""Streamlit's own frontend bundles answered from memory, ahead of its static-file route.

Why: Streamlit splits its frontend into one chunk per kind of element, so a browser without a
warm cache fetches 60 to 140 files to draw one page (the grid page: 137). Through Streamlit's
route each file passes six middlewares and three worker-thread hops (open, read, close): py-spy
put that at about a third of the server's CPU per fresh page view (bench/load.py). Every file
under ``static/js``, ``static/css`` and ``static/media`` is immutable (its name carries a content
hash), so each is read once and then answered at once.

Only the exact paths listed from those folders when the server starts are answered here; any
other request, a query string included, goes on to Streamlit unchanged.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

FOLDERS = ("js", "css", "media")
# Streamlit's own header for these files: hashed names, so a browser may keep them for a year.
CACHE_CONTROL = b"public, immutable, max-age=31536000"


def _content_type(path: Path) -> bytes:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind.endswith("javascript"):
        kind += "; charset=utf-8"
    return kind.encode("latin-1")


class Answer:
    """One file's bytes and headers, built the first time it is asked for."""

    __slots__ = ("body", "etag", "headers")

    def __init__(self, path: Path) -> None:
        self.body = path.read_bytes()
        self.etag = f'"{hashlib.blake2b(self.body, digest_size=12).hexdigest()}"'.encode()
        self.headers = [(b"content-type", _content_type(path)),
                        (b"content-length", str(len(self.body)).encode()),
                        (b"cache-control", CACHE_CONTROL), (b"etag", self.etag)]


class BundleCache:
    """ASGI middleware in front of Streamlit's app (serve.py gives it Streamlit's static folder
    and the configured ``server.baseUrlPath``)."""

    def __init__(self, app: ASGIApp, *, static_dir: str, base_url_path: str) -> None:
        self.app = app
        root = Path(static_dir) / "static"
        base = base_url_path.strip("/")
        prefix = f"/{base}/static" if base else "/static"
        self._files = {f"{prefix}/{folder}/{p.name}": p
                       for folder in FOLDERS if (root / folder).is_dir()
                       for p in (root / folder).iterdir() if p.is_file()}
        self._answers: dict[str, Answer] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or scope["method"] not in ("GET", "HEAD")
                or scope.get("query_string") or path not in self._files):
            await self.app(scope, receive, send)
            return
        answer = self._answers.get(path)
        if answer is None:
            answer = self._answers[path] = Answer(self._files[path])
        if answer.etag in dict(scope["headers"]).get(b"if-none-match", b""):
            await send({"type": "http.response.start", "status": 304,
                        "headers": [(b"etag", answer.etag), (b"cache-control", CACHE_CONTROL)]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": answer.headers})
        await send({"type": "http.response.body",
                    "body": b"" if scope["method"] == "HEAD" else answer.body})
