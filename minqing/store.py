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

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from minqing.settings import load_settings

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
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


VERSION_KEY = "data_version"
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
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
    if conn.info.get(_BUMPED) or not _WRITE.match(statement) or "alembic_version" in statement:
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
    """Return the shared engine for ``url`` (default: the configured database)."""
    url = _normalise(url or load_settings().database_url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
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
