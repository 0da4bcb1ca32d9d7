"""The store: one engine per database URL, sessions, the data version, and the schema upgrade.

SQLite is the zero-set-up default; PostgreSQL + PostGIS is chosen by URL. The same models and
query functions run on both: geometry is a portable column type (see :mod:`minqing.geometry`).

The data version (:func:`minqing.registry.data_version`, part of every page cache key) is moved
here, in one place, for every write: the engine notices the first INSERT, UPDATE or DELETE of a
transaction and, in the same transaction, adds one to the ``data_version`` row of
``dataset_info``. ORM sessions, Core statements, imports and the CLI all write through these
engines, so none of them can forget to invalidate the pages' caches; a rolled-back write leaves
the version where it was.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from minqing.errors import StoreError
from minqing.settings import load_settings

log = logging.getLogger(__name__)
T = TypeVar("T")
BUSY_TIMEOUT_MS = 3000  # SQLite waits this long for a lock before each attempt gives up
WRITE_ATTEMPTS = 3

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _normalise(url: str) -> str:
    """Let users write ``postgresql://`` and still get the psycopg 3 driver."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    """WAL lets the app read while the CLI writes; foreign keys are off by default in SQLite."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.close()


VERSION_KEY = "data_version"
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
#: Bookkeeping no page caches: sign-ins, session tokens (their last-seen time is rewritten as
#: people browse) and the audit trail. Moving the version for them threw every page's cache away
#: whenever anyone signed in or came back after a minute (bench/load.py: the district map's
#: layers rebuilt on almost every view).
_BOOKKEEPING = re.compile(
    r"\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+\"?(?:auth_tokens|audit_log|app_secrets)\b",
    re.IGNORECASE)
_BUMPED = "_minqing_version_moved"  # connection.info flag: this transaction moved it already
_BUMP = {
    "sqlite": ("INSERT OR IGNORE INTO dataset_info (key, value) VALUES ('data_version', '0')",),
    "postgresql": ("INSERT INTO dataset_info (key, value) VALUES ('data_version', '0') "
                   "ON CONFLICT (key) DO NOTHING",),
}
_HAS_TABLE = {
    "sqlite": "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dataset_info'",
    "postgresql": "SELECT to_regclass('dataset_info') IS NOT NULL",
}
_INCREMENT = ("UPDATE dataset_info SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR(32)) "
              "WHERE key = 'data_version'")


def _move_version(conn, cursor, statement, parameters, context, executemany) -> None:
    """Before the first write of a transaction, add one to the data version (same transaction).

    Runs on a cursor of its own so the write's own results are untouched; skips Alembic's
    bookkeeping and databases that have no ``dataset_info`` table yet.
    """
    if (conn.info.get(_BUMPED) or not _WRITE.match(statement) or "alembic_version" in statement
            or _BOOKKEEPING.match(statement)):
        return
    dialect = conn.dialect.name
    raw = conn.connection.dbapi_connection.cursor()
    try:
        raw.execute(_HAS_TABLE[dialect])
        row = raw.fetchone()
        if not row or not row[0]:
            return
        for sql in (*_BUMP[dialect], _INCREMENT):
            raw.execute(sql)
        conn.info[_BUMPED] = True
    finally:
        raw.close()


def _transaction_over(conn, *args) -> None:
    conn.info.pop(_BUMPED, None)


def _watch_writes(engine: Engine) -> None:
    event.listen(engine, "before_cursor_execute", _move_version)
    for name in ("commit", "rollback", "rollback_savepoint"):
        event.listen(engine, name, _transaction_over)


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """Return the shared engine for ``url`` (default: the configured database).

    ``hide_parameters``: a failed statement's message and log line name the SQL, never the
    values bound to it (diary text, names and phone numbers are personal data).
    """
    url = _normalise(url or load_settings().database_url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False},
                               hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                               hide_parameters=True)
    _watch_writes(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


def transient_kind(exc: DBAPIError) -> str | None:
    """``"busy"`` for a lock held past the timeout, ``"unreachable"`` for a lost or refused
    connection (a PostgreSQL restart), None for anything a retry would not cure."""
    if exc.connection_invalidated:
        return "unreachable"
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("55P03", "40P01", "40001"):  # lock not available, deadlock, serialization
        return "busy"
    text = str(orig).lower()
    if "database is locked" in text or "database table is locked" in text:
        return "busy"
    lost = any(cls.__module__.startswith("psycopg")
               and cls.__name__ in ("OperationalError", "InterfaceError")
               for cls in type(orig).__mro__)
    if lost and (sqlstate is None or sqlstate.startswith(("08", "57P"))):
        return "unreachable"
    return None


def write(engine: Engine, work: Callable[[Session], T], *, attempts: int | None = None,
          pause: float = 0.25) -> T:
    """Run ``work(session)`` as one transaction, retried when the store is briefly unavailable.

    A lock held a little too long, or a connection dropped by a database restart, rolls the
    attempt back and runs ``work`` again after a short pause; after ``attempts`` tries a
    :class:`~minqing.errors.StoreError` (``store.busy`` / ``store.unreachable``) tells the user
    that nothing was written and their input is kept. Refusals (domain errors) and other
    database errors are not retried. Logs name the error class only: no SQL values.
    """
    attempts = attempts or WRITE_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            with session_scope(engine) as session:
                return work(session)
        except DBAPIError as exc:
            kind = transient_kind(exc)
            if kind is None:
                raise
            log.warning("store %s (%s), attempt %d of %d", kind, type(exc.orig).__name__,
                        attempt, attempts)
            if attempt == attempts:
                raise StoreError(f"store.{kind}") from None
            time.sleep(pause * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", _normalise(url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the schema at ``url`` up to ``revision`` (``minqing db upgrade``)."""
    from alembic import command

    command.upgrade(alembic_config(url or load_settings().database_url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url or load_settings().database_url), revision)
