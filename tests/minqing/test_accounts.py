"""Accounts on both backends: argon2 hashes, lock-out, idle expiry, the forced first change,
management by rank and jurisdiction, display tokens, single sign-on mapping, actions recorded as
the signed-in account, and the audit trail that cannot be changed afterwards."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from minqing import accounts, audit
from minqing.access import AccessDenied, Role
from minqing.cases import NewCase, act
from minqing.cli import main as cli
from minqing.diary import NewEntry, record
from minqing.errors import InputError, NotFoundError, RuleError
from minqing.models import Account, AuditEvent, CaseEvent, DiaryEntry
from minqing.scope import Scope
from minqing.store import get_engine
from tests.world import World, build_world

T0 = dt.datetime(2026, 11, 20, 9, 0, 0)
SYSTEM = Scope.district()


@pytest.fixture
def world(db_url) -> World:
    return build_world(db_url)


def _account(world: World, role: Role = Role.TOWN_SUPERVISOR, *, username: str = "zhang",
             password: str = "correct horse", level: str | None = None,
             jurisdiction_id: int | None = None, must_change: bool = False) -> int:
    level = level or {"town_supervisor": "town", "grid_cadre": "grid", "area_head": "area"}.get(
        role.value, "district")
    place = jurisdiction_id or {"town": world.town_id, "grid": world.grid_id}.get(level)
    if level == "area":
        from minqing.models import Grid

        with get_engine(world.url).connect() as conn:
            place = conn.scalar(select(Grid.area_id).where(Grid.id == world.grid_id))
    return accounts.create_account(get_engine(world.url), by=SYSTEM, username=username,
                                   name="张督查", role=role, level=level, jurisdiction_id=place,
                                   password=password, must_change_password=must_change)


def _audit(world: World, action: str) -> list[str]:
    rows = audit.search(get_engine(world.url), scope=SYSTEM, actions=(action,))
    return rows["username"].tolist()


def test_passwords_are_argon2id_and_checked(world):
    engine = get_engine(world.url)
    _account(world)
    with engine.connect() as conn:
        stored = conn.scalar(select(Account.password_hash).where(Account.username == "zhang"))
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    good = accounts.authenticate(engine, " ZHANG ", "correct horse", now=T0)
    assert good.viewer.username == "zhang"
    assert good.viewer.role == "town_supervisor"
    assert (good.viewer.level, good.viewer.jurisdiction_id) == ("town", world.town_id)
    assert accounts.authenticate(engine, "zhang", "wrong", now=T0).refusal == \
        "accounts.error.bad_credentials"
    assert accounts.authenticate(engine, "nobody", "x", now=T0).refusal == \
        "accounts.error.bad_credentials"
    assert _audit(world, "sign_in_failed") == ["nobody", "zhang"]
    assert _audit(world, "sign_in") == ["zhang"]


def test_five_failures_lock_for_fifteen_minutes(world):
    engine = get_engine(world.url)
    _account(world)
    for i in range(4):
        assert accounts.authenticate(engine, "zhang", "wrong", now=T0 + dt.timedelta(seconds=i)
                                     ).refusal == "accounts.error.bad_credentials"
    locked = accounts.authenticate(engine, "zhang", "wrong", now=T0 + dt.timedelta(seconds=5))
    assert locked.refusal == "accounts.error.locked"
    assert locked.locked_until == T0 + dt.timedelta(seconds=5, minutes=15)
    still = accounts.authenticate(engine, "zhang", "correct horse",
                                  now=T0 + dt.timedelta(minutes=15))
    assert still.refusal == "accounts.error.locked"
    assert still.viewer is None
    after = accounts.authenticate(engine, "zhang", "correct horse",
                                  now=T0 + dt.timedelta(minutes=15, seconds=6))
    assert after.viewer is not None
    assert _audit(world, "locked_out") == ["zhang"]


def test_sessions_expire_when_idle_and_on_sign_out(world):
    engine = get_engine(world.url)
    account_id = _account(world)
    token = accounts.open_token(engine, account_id, now=T0)
    at = T0 + dt.timedelta(minutes=29)
    assert accounts.resume(engine, token, now=at, idle_minutes=30).username == "zhang"
    assert accounts.resume(engine, token, now=at + dt.timedelta(minutes=29),
                           idle_minutes=30) is not None  # last use moved on to ``at``
    idle = at + dt.timedelta(minutes=29) + dt.timedelta(minutes=31)
    assert accounts.resume(engine, token, now=idle, idle_minutes=30) is None
    assert accounts.resume(engine, token, now=T0, idle_minutes=30) is None  # revoked for good
    assert _audit(world, "session_expired") == ["zhang"]
    other = accounts.open_token(engine, account_id, now=T0)
    accounts.revoke(engine, other)
    assert accounts.resume(engine, other, now=T0, idle_minutes=30) is None
    assert accounts.resume(engine, "forged", now=T0) is None


def test_the_cookie_is_signed(world):
    key = accounts.signing_key(get_engine(world.url))
    assert key == accounts.signing_key(get_engine(world.url))  # kept in the store
    value = accounts.sign("tok", key)
    assert accounts.unsign(value, key) == "tok"
    assert accounts.unsign(value[:-1] + ("0" if value[-1] != "0" else "1"), key) is None
    assert accounts.unsign("tok", key) is None
    assert accounts.unsign(accounts.sign("tok", b"another key"), key) is None


def test_empty_store_starts_with_an_admin_who_must_change_the_password(empty_db_url, capsys):
    assert cli(["db", "upgrade", "--url", empty_db_url]) == 0
    printed = capsys.readouterr().out
    password = printed.split("admin / ", 1)[1].split()[0]
    engine = get_engine(empty_db_url)
    with engine.connect() as conn:
        assert conn.execute(select(Account.username, Account.role)).all() == [("admin", "admin")]
    first = accounts.authenticate(engine, "admin", password)
    assert first.must_change_password
    with pytest.raises(InputError):
        accounts.change_password(engine, account_id=first.viewer.account_id,
                                 old_password=password, new_password="short")
    accounts.change_password(engine, account_id=first.viewer.account_id, old_password=password,
                             new_password="a much better one")
    assert not accounts.authenticate(engine, "admin", "a much better one").must_change_password
    assert cli(["db", "upgrade", "--url", empty_db_url]) == 0
    assert "admin /" not in capsys.readouterr().out  # only on an empty store


def test_nobody_manages_a_higher_role_or_outside_their_jurisdiction(world):
    engine = get_engine(world.url)
    admin_id = _account(world, Role.ADMIN, username="root")
    officer_id = _account(world, Role.DATA_OFFICER, username="officer", level="town",
                          jurisdiction_id=world.town_id)
    officer = accounts.account_by_id(engine, officer_id).scope()
    with pytest.raises(AccessDenied):
        accounts.create_account(engine, by=officer, username="boss", name="x",
                                role=Role.DISTRICT_SUPERVISOR, password="long enough")
    with pytest.raises(AccessDenied):  # the officer's town, not the district
        accounts.create_account(engine, by=officer, username="wide", name="x",
                                role=Role.PLANNER, level="district", password="long enough")
    with pytest.raises(AccessDenied):
        accounts.reset_password(engine, by=officer, account_id=admin_id,
                                new_password="long enough")
    cadre = accounts.create_account(engine, by=officer, username="cadre1", name="李",
                                    role=Role.GRID_CADRE, level="grid",
                                    jurisdiction_id=world.grid_id, password="long enough")
    with pytest.raises(InputError):  # an area head holds an area, not a grid
        accounts.update_account(engine, by=officer, account_id=cadre, role=Role.AREA_HEAD,
                                level="grid", jurisdiction_id=world.grid_id)
    supervisor = accounts.account_by_id(engine, _account(world)).scope()
    with pytest.raises(AccessDenied):
        accounts.list_accounts(engine, scope=supervisor)
    with pytest.raises(RuleError):
        accounts.update_account(engine, by=officer, account_id=officer_id, disabled=True)
    assert set(accounts.list_accounts(engine, scope=officer)["username"]) == {
        "officer", "cadre1", "zhang"}
    created = audit.search(engine, scope=SYSTEM, actions=("account_created",))
    assert dict(zip(created["target"], created["username"], strict=True))["cadre1"] == "officer"


def test_disabling_and_resetting_sign_the_account_out(world):
    engine = get_engine(world.url)
    account_id = _account(world)
    admin = accounts.account_by_id(engine, _account(world, Role.ADMIN, username="root")).scope()
    token = accounts.open_token(engine, account_id, now=T0)
    accounts.reset_password(engine, by=admin, account_id=account_id, new_password="temporary 1")
    assert accounts.resume(engine, token, now=T0, idle_minutes=30) is None
    assert accounts.authenticate(engine, "zhang", "temporary 1").must_change_password
    token = accounts.open_token(engine, account_id)
    accounts.update_account(engine, by=admin, account_id=account_id, disabled=True)
    assert accounts.resume(engine, token) is None
    assert accounts.authenticate(engine, "zhang", "temporary 1").refusal == \
        "accounts.error.disabled"
    changes = audit.search(engine, scope=SYSTEM, actions=("account_changed", "password_reset"))
    assert changes["username"].tolist() == ["root", "root"]
    assert set(changes["target"]) == {"zhang"}


def test_display_tokens_sign_in_the_display_only_until_revoked(world):
    engine = get_engine(world.url)
    display = _account(world, Role.DISPLAY, username="wall")
    with pytest.raises(RuleError):
        accounts.create_display_token(engine, by=SYSTEM, account_id=_account(world))
    token = accounts.create_display_token(engine, by=SYSTEM, account_id=display, label="hall")
    viewer = accounts.resume(engine, token, kind=accounts.DISPLAY,
                             now=T0 + dt.timedelta(days=90))  # a display never idles out
    assert viewer.role == "display"
    assert accounts.resume(engine, token) is None  # not a browser session token
    token_id = int(accounts.display_tokens(engine, scope=SYSTEM)["id"].iloc[0])
    accounts.revoke_display_token(engine, by=SYSTEM, token_id=token_id)
    assert accounts.resume(engine, token, kind=accounts.DISPLAY) is None
    assert _audit(world, "display_token_revoked") == ["system"]


def test_single_sign_on_maps_the_identity_to_an_account(world):
    engine = get_engine(world.url)
    account_id = _account(world)
    admin = accounts.account_by_id(engine, _account(world, Role.ADMIN, username="root")).scope()
    accounts.update_account(engine, by=admin, account_id=account_id, email="Zhang@Example.cn")
    first = accounts.account_for_identity(engine, subject="sub-1", email="zhang@example.cn")
    assert first.viewer.username == "zhang"
    again = accounts.account_for_identity(engine, subject="sub-1", email=None)
    assert again.viewer.account_id == account_id
    stranger = accounts.account_for_identity(engine, subject="sub-2", email="zhang@example.cn")
    assert stranger.refusal == "accounts.error.sso_no_account"  # that e-mail is bound already
    assert "zhang@example.cn" in _audit(world, "sign_in_failed")


def test_actions_are_recorded_as_the_signed_in_account(world):
    engine = get_engine(world.url)
    cadre = accounts.account_by_id(engine, _account(world, Role.GRID_CADRE, username="li"))
    entry = NewEntry(grid_id=world.grid_id, cadre_id=world.cadre_id,
                     entry_date=dt.date(2026, 11, 2), kind="demand", source="house_call",
                     text="路灯坏了", household_id=world.household_id)
    case = NewCase(grid_id=world.grid_id, title="修路灯", track="immediate", responsible="李干部")
    entry_id, case_id = record(engine, entry=entry, case=case, actor="typed name",
                               scope=cadre.scope(), today=dt.date(2026, 11, 2))
    act(engine, case_id=case_id, version=1, action="start", actor="someone else",
        scope=cadre.scope(), today=dt.date(2026, 11, 3))
    with engine.connect() as conn:
        assert conn.scalar(select(DiaryEntry.account_id).where(DiaryEntry.id == entry_id)) == \
            cadre.account_id
        events = conn.execute(select(CaseEvent.actor, CaseEvent.account_id)
                              .where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)).all()
    assert events == [(cadre.label, cadre.account_id)] * 2
    with pytest.raises(NotFoundError):  # the other grid is outside the cadre's jurisdiction
        record(engine, entry=NewEntry(**{**entry.__dict__, "grid_id": world.other_grid_id,
                                         "household_id": None}),
               actor="x", scope=cadre.scope(), today=dt.date(2026, 11, 2))
    planner = accounts.account_by_id(engine, _account(world, Role.PLANNER, username="plan"))
    with pytest.raises(AccessDenied):
        record(engine, entry=entry, actor="x", scope=planner.scope(), today=dt.date(2026, 11, 2))


def test_the_audit_trail_cannot_be_changed_or_deleted(world):
    engine = get_engine(world.url)
    audit.record(engine, "export", username="zhang", target="households.xlsx")
    for statement in (update(AuditEvent).values(username="someone else"),
                      AuditEvent.__table__.delete()):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(AuditEvent)) == 1
        assert conn.scalar(select(AuditEvent.username)) == "zhang"
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))


def test_only_the_admin_reads_the_audit_trail(world):
    engine = get_engine(world.url)
    officer = accounts.account_by_id(engine, _account(world, Role.DATA_OFFICER, username="o"))
    with pytest.raises(AccessDenied):
        audit.search(engine, scope=officer.scope())
