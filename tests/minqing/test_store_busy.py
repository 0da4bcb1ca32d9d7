"""A busy or unreachable database: short locks are waited out quietly, long ones and lost
connections end in a clear refusal with nothing half-written, and no log line or error message
carries what the user typed."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from minqing import store
from minqing.diary import NewEntry, record
from minqing.errors import StoreError
from minqing.models import DiaryEntry
from minqing.store import get_engine, session_scope
from tests.world import World, build_world

TODAY = dt.date(2026, 11, 20)
SECRET = "住户王某某家中老人独居，身份证号330402195001011234，需要帮扶"


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def _entry(world: World, text: str = SECRET) -> NewEntry:
    return NewEntry(grid_id=world.grid_id, cadre_id=world.cadre_id, entry_date=TODAY,
                    kind="demand", source="house_call", text=text)


def _entries(url: str) -> int:
    with session_scope(get_engine(url)) as s:
        return s.scalar(select(func.count()).select_from(DiaryEntry))


def _sqlite_path(url: str) -> str:
    return url.split("///", 1)[1]


def _hold_write_lock(url: str) -> sqlite3.Connection:
    """Another process's writer: a connection that has taken SQLite's write lock and keeps it."""
    conn = sqlite3.connect(_sqlite_path(url), isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


@pytest.fixture
def sqlite_world(tmp_path) -> World:
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    store.upgrade(url)
    return build_world(url)


def test_a_short_lock_is_waited_out_quietly(sqlite_world):
    lock = _hold_write_lock(sqlite_world.url)
    threading.Timer(0.8, lock.rollback).start()
    entry_id, _ = record(get_engine(sqlite_world.url), entry=_entry(sqlite_world), actor="张三")
    assert entry_id > 0
    assert _entries(sqlite_world.url) == 1
    lock.close()


def test_a_long_lock_is_refused_clearly_and_nothing_is_written(sqlite_world, monkeypatch, caplog):
    monkeypatch.setattr(store, "WRITE_ATTEMPTS", 2)
    lock = _hold_write_lock(sqlite_world.url)
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(StoreError) as err:
            record(get_engine(sqlite_world.url), entry=_entry(sqlite_world), actor="张三")
    finally:
        lock.rollback()
        lock.close()
    assert err.value.key == "store.busy"
    assert "没有保存" in err.value.message("zh")
    assert "nothing was saved" in err.value.message("en")
    assert _entries(sqlite_world.url) == 0
    assert "store busy" in caplog.text
    assert SECRET not in caplog.text
    assert "330402" not in caplog.text
    assert SECRET not in str(err.value)
    # the lock is gone: the same input saves
    record(get_engine(sqlite_world.url), entry=_entry(sqlite_world), actor="张三")
    assert _entries(sqlite_world.url) == 1


def test_a_failed_write_names_no_values(world, caplog):
    """SQLAlchemy puts bound parameters into its error text and logs unless told not to."""
    caplog.set_level(logging.DEBUG)
    row = DiaryEntry(grid_id=world.grid_id, town_id=world.town_id, cadre_id=10**9,
                     entry_date=TODAY, kind="demand", source="house_call", text=SECRET,
                     risk_level=0, created_at=dt.datetime(2026, 11, 20, 9))

    def work(session):
        session.add(row)
        session.flush()

    with pytest.raises(IntegrityError) as err:
        store.write(get_engine(world.url), work)
    assert SECRET not in str(err.value)
    assert SECRET not in caplog.text


def test_written_entries_are_logged_by_id_not_content(world, caplog):
    caplog.set_level(logging.DEBUG, logger="minqing")
    entry_id, _ = record(get_engine(world.url), entry=_entry(world), actor="张三")
    assert f"diary entry {entry_id} written" in caplog.text
    assert SECRET not in caplog.text
    assert "张三" not in caplog.text


# --- PostgreSQL: a restart drops every connection; a stopped server refuses them -----------------


def _terminate_connections(url: str) -> int:
    from tests.conftest import _pg_admin

    name = url.rsplit("/", 1)[1]
    with _pg_admin() as conn:
        return len(conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchall())


def test_connections_dropped_by_a_restart_are_replaced(world):
    if not world.url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    engine = get_engine(world.url)
    record(engine, entry=_entry(world, "第一条"), actor="张三")  # the pool now holds a connection
    assert _terminate_connections(world.url) >= 1
    record(engine, entry=_entry(world, "第二条"), actor="张三")
    assert _entries(world.url) == 2


def test_a_connection_lost_mid_transaction_is_retried_once_whole(world):
    if not world.url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    from minqing.diary import add_entry

    engine = get_engine(world.url)
    calls = []

    def work(session):
        calls.append(1)
        add_entry(session, entry=_entry(world), actor="张三")
        session.flush()
        if len(calls) == 1:  # the server goes away before the commit
            _terminate_connections(world.url)
            time.sleep(0.2)
        return True

    assert store.write(engine, work)
    assert len(calls) == 2
    assert _entries(world.url) == 1  # nothing half-written, nothing twice


def test_a_stopped_server_gets_the_unreachable_message(monkeypatch, caplog):
    monkeypatch.setattr(store, "WRITE_ATTEMPTS", 2)
    engine = get_engine("postgresql+psycopg://minqing@127.0.0.1:1/nowhere?connect_timeout=2")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StoreError) as err:
        record(engine, entry=NewEntry(grid_id=1, cadre_id=1, entry_date=TODAY, kind="demand",
                                      source="house_call", text=SECRET), actor="张三")
    assert err.value.key == "store.unreachable"
    assert SECRET not in caplog.text
