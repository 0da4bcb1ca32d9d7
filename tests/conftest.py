"""Shared fixtures: a database per backend (SQLite always, PostGIS when MINQING_TEST_PG_URL is set)
and a small demo district built once per backend per session.

"Today" is pinned (MINQING_TODAY) so deadlines and counters do not drift with the calendar; the
browser tests' app processes inherit the same pin.

Signing in: the app shows nothing but the sign-in form until someone is signed in. Every demo
database holds one account per role, and a page test signs in with one line (tests/auth.py):
``sign_in(AppTest.from_file(APP), "town_supervisor")`` for AppTest, the ``sign_in_as`` fixture
(tests/browser/conftest.py) for Playwright: ``sign_in_as("district_supervisor")``.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

AS_OF = dt.date(2026, 11, 20)
APP = str(Path(__file__).resolve().parents[1] / "app.py")  # for AppTest.from_file
os.environ["MINQING_TODAY"] = AS_OF.isoformat()
PG_URL = os.environ.get("MINQING_TEST_PG_URL", "")


def _backends() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    if PG_URL:
        params.append(pytest.param("postgis", id="postgis"))
    return params


def _pg_admin():
    import psycopg

    url = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True)


def _new_database(backend: str, tmp_dir) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / f'minqing-{uuid.uuid4().hex[:8]}.db'}"
    name = f"mq_test_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base = PG_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def _drop_database(url: str) -> None:
    from minqing.store import get_engine

    if url.startswith("sqlite"):
        return
    get_engine(url).dispose()
    name = url.rsplit("/", 1)[1]
    with _pg_admin() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=_backends())
def empty_db_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database (no schema) on each backend."""
    url = _new_database(request.param, tmp_path)
    yield url
    _drop_database(url)


@pytest.fixture(params=_backends())
def db_url(request, tmp_path) -> Iterator[str]:
    """A fresh database at the latest schema, no records, on each backend."""
    from minqing.store import upgrade

    url = _new_database(request.param, tmp_path)
    upgrade(url)
    yield url
    _drop_database(url)


_DEMO_CACHE: dict[str, str] = {}


@pytest.fixture(scope="session", params=_backends())
def demo_db_url(request, tmp_path_factory) -> Iterator[str]:
    """The small demo district, built once per backend and shared read-only by tests.

    Tests that write must use ``fresh_demo_db_url`` instead.
    """
    from minqing.demo import build

    url = _new_database(request.param, tmp_path_factory.mktemp("demo"))
    build(url, scale="small", seed=7, as_of=AS_OF, progress=False)
    yield url
    _drop_database(url)


@pytest.fixture
def sqlite_demo_url(tmp_path_factory) -> str:
    """A small demo district on SQLite, built once and copied per test so tests may write."""
    import shutil

    from minqing.demo import build

    if "sqlite" not in _DEMO_CACHE:
        path = tmp_path_factory.mktemp("demo-master") / "demo.db"
        build(f"sqlite:///{path}", scale="small", seed=7, as_of=AS_OF, progress=False)
        from minqing.store import get_engine

        get_engine(f"sqlite:///{path}").dispose()
        _DEMO_CACHE["sqlite"] = str(path)
    copy = tmp_path_factory.mktemp("demo-copy") / "demo.db"
    shutil.copy(_DEMO_CACHE["sqlite"], copy)
    return f"sqlite:///{copy}"
