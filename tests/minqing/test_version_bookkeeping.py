"""Sign-ins, session tokens and the audit trail do not move the data version: otherwise every
page's cache was thrown away whenever anyone signed in or came back after a minute."""

from __future__ import annotations

import datetime as dt

from minqing import accounts, audit
from minqing.audit import AuditAction
from minqing.diary import NewEntry, record
from minqing.registry import data_version
from minqing.store import get_engine
from tests.auth import viewer_for
from tests.world import build_world


def test_bookkeeping_writes_keep_the_version_and_records_move_it(db_url):
    world = build_world(db_url)
    engine = get_engine(db_url)
    account_id = viewer_for("district_supervisor", db_url).account_id
    before = data_version(engine)
    token = accounts.open_token(engine, account_id)
    with engine.begin() as conn:
        audit.record(conn, AuditAction.SIGN_IN, account_id=account_id, username="x")
    accounts.signing_key(engine)
    assert token
    assert data_version(engine) == before
    record(engine, entry=NewEntry(grid_id=world.grid_id, cadre_id=world.cadre_id,
                                  entry_date=dt.date(2026, 11, 20), kind="demand",
                                  source="house_call", text="路灯坏了"), actor="甲")
    assert data_version(engine) != before
