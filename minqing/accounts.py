"""Accounts: passwords, sign-in with lock-out, sessions and display tokens, and their management.

* Passwords are hashed with argon2id (argon2-cffi's ``PasswordHasher`` defaults); a hash made
  with older parameters is upgraded at the next successful sign-in.
* Five failed sign-ins in a row lock the account for 15 minutes; a sign-in for an unknown name
  costs the same hash so that timing does not tell which names exist. Every failure is audited.
* A signed-in browser keeps a random session token in a signed cookie; only the token's SHA-256
  is stored. A session unused for ``idle_minutes`` (settings) is expired; signing out, a password
  reset or disabling the account revokes it at once, in every process.
* A wall display signs in with a long-lived token in its URL (``/display?token=...``), bound to an
  account of the ``display`` role and revocable from the accounts page.
* Management obeys :func:`minqing.access.can_manage`: nobody changes an account of a higher role,
  grants a role above their own, or reaches outside their own jurisdiction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.orm import Session

from minqing import audit
from minqing.access import LEVELS, MANAGES_ACCOUNTS, AccessDenied, Role, can_manage
from minqing.audit import AuditAction
from minqing.clock import now as clock_now
from minqing.errors import InputError, NotFoundError, RuleError
from minqing.models import Account, AppSecret, Area, AuthToken, Grid, Town
from minqing.scope import Scope, Viewer
from minqing.settings import load_settings

MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 8
TOUCH_SECONDS = 60  # how stale ``last_seen_at`` may get before a resumed session rewrites it
SESSION, DISPLAY = "session", "display"

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password: equalises the time of unknown names")


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: a viewer, or the catalogue key of the refusal."""

    viewer: Viewer | None = None
    refusal: str | None = None  # accounts.error.bad_credentials | .locked | .disabled
    must_change_password: bool = False
    locked_until: dt.datetime | None = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise InputError("accounts.error.password_short", field="password", n=MIN_PASSWORD)


def _orm(conn: Connection) -> Session:
    """An ORM session on ``conn``'s transaction, to read whole :class:`Account` objects."""
    return Session(bind=conn, expire_on_commit=False)


def viewer_of(account: Account) -> Viewer:
    return Viewer(account_id=account.id, username=account.username, name=account.name,
                  role=account.role, level=account.level,
                  jurisdiction_id=account.jurisdiction_id)


def authenticate(engine: Engine, username: str, password: str, *,
                 now: dt.datetime | None = None) -> SignIn:
    """Check a username and password, counting failures and locking after :data:`MAX_FAILURES`."""
    now = now or clock_now()
    name = (username or "").strip().lower()[:64]
    with engine.begin() as conn:
        account = _orm(conn).scalars(select(Account).where(Account.username == name)).first()
        if account is None or account.password_hash is None:
            _verify(_DUMMY_HASH, password)
            audit.record(conn, AuditAction.SIGN_IN_FAILED, username=name,
                         detail={"reason": "unknown"})
            return SignIn(refusal="accounts.error.bad_credentials")
        if account.locked_until is not None and account.locked_until > now:
            audit.record(conn, AuditAction.SIGN_IN_FAILED, account_id=account.id,
                         username=name, detail={"reason": "locked"})
            return SignIn(refusal="accounts.error.locked", locked_until=account.locked_until)
        if not _verify(account.password_hash, password):
            return _failed(conn, account, now)
        if account.disabled:
            audit.record(conn, AuditAction.SIGN_IN_FAILED, account_id=account.id,
                         username=name, detail={"reason": "disabled"})
            return SignIn(refusal="accounts.error.disabled")
        values = {"failed_attempts": 0, "locked_until": None, "last_sign_in_at": now}
        if _hasher.check_needs_rehash(account.password_hash):
            values["password_hash"] = hash_password(password)
        conn.execute(update(Account).where(Account.id == account.id).values(**values))
        audit.record(conn, AuditAction.SIGN_IN, account_id=account.id, username=name)
        return SignIn(viewer=viewer_of(account),
                      must_change_password=bool(account.must_change_password))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _failed(conn: Connection, account: Account, now: dt.datetime) -> SignIn:
    failures = (account.failed_attempts or 0) + 1
    locked = now + dt.timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
    conn.execute(update(Account).where(Account.id == account.id).values(
        failed_attempts=0 if locked else failures, locked_until=locked))
    audit.record(conn, AuditAction.SIGN_IN_FAILED, account_id=account.id,
                 username=account.username, detail={"reason": "password", "failures": failures})
    if locked:
        audit.record(conn, AuditAction.LOCKED_OUT, account_id=account.id,
                     username=account.username, detail={"until": locked.isoformat()})
        return SignIn(refusal="accounts.error.locked", locked_until=locked)
    return SignIn(refusal="accounts.error.bad_credentials")


def change_password(engine: Engine, *, account_id: int, old_password: str,
                    new_password: str) -> None:
    """The account holder's own change (also the forced one at first sign-in)."""
    check_password_policy(new_password)
    if new_password == old_password:
        raise InputError("accounts.error.password_same", field="new_password")
    with engine.begin() as conn:
        account = _orm(conn).scalars(select(Account).where(Account.id == account_id)).first()
        if account is None or not _verify(account.password_hash or "", old_password):
            raise InputError("accounts.error.old_password", field="old_password")
        conn.execute(update(Account).where(Account.id == account_id).values(
            password_hash=hash_password(new_password), must_change_password=False))
        audit.record(conn, AuditAction.PASSWORD_CHANGED, account_id=account_id,
                     username=account.username)


# --- sessions and display tokens ----------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_token(engine: Engine, account_id: int, *, kind: str = SESSION, label: str = "",
               now: dt.datetime | None = None) -> str:
    """A new random token for the account; only its digest is stored. Returns the token."""
    token = secrets.token_urlsafe(32)
    now = now or clock_now()
    with engine.begin() as conn:
        conn.execute(AuthToken.__table__.insert().values(
            account_id=account_id, kind=kind, token_hash=_digest(token), label=label[:64],
            created_at=now, last_seen_at=now, revoked_at=None))
    return token


def resume(engine: Engine, token: str | None, *, kind: str = SESSION,
           now: dt.datetime | None = None, idle_minutes: int | None = None) -> Viewer | None:
    """The viewer a token signs in, or None if unknown, revoked, idle too long or disabled.

    Session tokens expire after ``idle_minutes`` without use (and are revoked then); display
    tokens do not idle out. A successful resume refreshes the token's ``last_seen_at``.
    """
    if not token:
        return None
    now = now or clock_now()
    idle = load_settings().idle_minutes if idle_minutes is None else idle_minutes
    with engine.begin() as conn:
        row = _orm(conn).execute(
            select(AuthToken, Account).join(Account, Account.id == AuthToken.account_id)
            .where(AuthToken.token_hash == _digest(token), AuthToken.kind == kind)).first()
        if row is None:
            return None
        tok, account = row
        if tok.revoked_at is not None or account.disabled:
            return None
        if kind == DISPLAY and account.role != Role.DISPLAY:
            return None
        if kind == SESSION and now - tok.last_seen_at > dt.timedelta(minutes=idle):
            conn.execute(update(AuthToken).where(AuthToken.id == tok.id).values(revoked_at=now))
            audit.record(conn, AuditAction.SESSION_EXPIRED, account_id=account.id,
                         username=account.username)
            return None
        if (now - tok.last_seen_at).total_seconds() >= TOUCH_SECONDS:
            conn.execute(update(AuthToken).where(AuthToken.id == tok.id)
                         .values(last_seen_at=now))
        return viewer_of(account)


def revoke(engine: Engine, token: str | None, *, now: dt.datetime | None = None) -> None:
    """Revoke one session token (sign-out)."""
    if not token:
        return
    with engine.begin() as conn:
        conn.execute(update(AuthToken).where(AuthToken.token_hash == _digest(token),
                                             AuthToken.revoked_at.is_(None))
                     .values(revoked_at=now or clock_now()))


def _revoke_sessions(conn: Connection, account_id: int, now: dt.datetime) -> None:
    conn.execute(update(AuthToken).where(AuthToken.account_id == account_id,
                                         AuthToken.kind == SESSION,
                                         AuthToken.revoked_at.is_(None)).values(revoked_at=now))


def needs_password_change(engine: Engine, account_id: int) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(select(Account.must_change_password)
                                .where(Account.id == account_id)))


# --- the signed cookie --------------------------------------------------------------------------


def signing_key(engine: Engine) -> bytes:
    """``MINQING_SECRET_KEY``, else a random key generated once and kept in the store."""
    configured = load_settings().secret_key
    if configured:
        return configured.encode()
    with engine.begin() as conn:
        value = conn.scalar(select(AppSecret.value).where(AppSecret.name == "cookie"))
        if value is None:
            value = secrets.token_hex(32)
            conn.execute(AppSecret.__table__.insert().values(name="cookie", value=value))
    return value.encode()


def sign(token: str, key: bytes) -> str:
    mac = hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
    return f"{token}.{mac}"


def unsign(value: str | None, key: bytes) -> str | None:
    """The token inside a signed cookie value, or None when the signature does not match."""
    if not value or "." not in value:
        return None
    token, mac = value.rsplit(".", 1)
    expected = hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
    return token if hmac.compare_digest(mac, expected) else None


# --- management ---------------------------------------------------------------------------------


def jurisdiction_contains(conn: Connection, outer: tuple[str, int | None],
                          inner: tuple[str, int | None]) -> bool:
    """Is jurisdiction ``inner`` (level, id) inside ``outer``?"""
    (olevel, oid), (ilevel, iid) = outer, inner
    if olevel == "district":
        return True
    if ilevel == "district" or iid is None:
        return False
    order = ["district", "town", "area", "grid"]
    if order.index(ilevel) < order.index(olevel):
        return False
    if ilevel == olevel:
        return iid == oid
    if ilevel == "area":
        return conn.scalar(select(Area.town_id).where(Area.id == iid)) == oid
    row = conn.execute(select(Grid.town_id, Grid.area_id).where(Grid.id == iid)).first()
    if row is None:
        return False
    return (row.town_id if olevel == "town" else row.area_id) == oid


def _jurisdiction_exists(conn: Connection, level: str, jurisdiction_id: int | None) -> bool:
    if level == "district":
        return jurisdiction_id is None
    model = {"town": Town, "area": Area, "grid": Grid}.get(level)
    return model is not None and conn.scalar(
        select(model.id).where(model.id == jurisdiction_id)) is not None


def _check_grant(conn: Connection, by: Scope, role: str, level: str,
                 jurisdiction_id: int | None) -> None:
    """Refuse a role or jurisdiction the acting viewer may not give."""
    try:
        role = Role(role)
    except ValueError:
        raise InputError("accounts.error.bad_role", field="role", value=role) from None
    if level not in LEVELS[role]:
        raise InputError("accounts.error.bad_level", field="level")
    if not _jurisdiction_exists(conn, level, jurisdiction_id):
        raise InputError("accounts.error.bad_jurisdiction", field="jurisdiction_id")
    if by.viewer is None:
        return
    if not can_manage(by.role, role):
        raise AccessDenied("accounts.error.higher_role")
    if not jurisdiction_contains(conn, (by.viewer.level, by.viewer.jurisdiction_id),
                                 (level, jurisdiction_id)):
        raise AccessDenied("accounts.error.outside_jurisdiction")


def _require_manager(by: Scope) -> None:
    if by.viewer is not None and by.role not in MANAGES_ACCOUNTS:
        raise AccessDenied("accounts.error.not_manager")


def _managed(conn: Connection, by: Scope, account_id: int) -> Account:
    """The account ``by`` may change, or a refusal."""
    _require_manager(by)
    account = _orm(conn).scalars(select(Account).where(Account.id == account_id)).first()
    if account is None:
        raise NotFoundError("accounts.error.not_found", account_id=account_id)
    if by.viewer is not None:
        if not can_manage(by.role, account.role):
            raise AccessDenied("accounts.error.higher_role")
        if not jurisdiction_contains(conn, (by.viewer.level, by.viewer.jurisdiction_id),
                                     (account.level, account.jurisdiction_id)):
            raise AccessDenied("accounts.error.outside_jurisdiction")
    return account


def create_account(engine: Engine, *, by: Scope, username: str, name: str, role: str,
                   level: str = "district", jurisdiction_id: int | None = None,
                   password: str, must_change_password: bool = True,
                   email: str | None = None) -> int:
    """Create an account; by default its holder must choose a new password at first sign-in."""
    username = (username or "").strip().lower()
    if not username or len(username) > 64 or not username.replace(".", "").replace(
            "_", "").replace("-", "").isalnum():
        raise InputError("accounts.error.bad_username", field="username")
    if not (name or "").strip():
        raise InputError("accounts.error.required", field="name")
    check_password_policy(password)
    jurisdiction_id = None if level == "district" else jurisdiction_id
    with engine.begin() as conn:
        _require_manager(by)
        _check_grant(conn, by, role, level, jurisdiction_id)
        if conn.scalar(select(Account.id).where(Account.username == username)) is not None:
            raise RuleError("accounts.error.username_taken", field="username", username=username)
        account_id = conn.execute(Account.__table__.insert().values(
            username=username, name=name.strip()[:64], role=Role(role).value, level=level,
            jurisdiction_id=jurisdiction_id, password_hash=hash_password(password),
            must_change_password=must_change_password, disabled=False, failed_attempts=0,
            email=(email or "").strip().lower() or None, created_at=clock_now(),
        )).inserted_primary_key[0]
        audit.record_for(conn, AuditAction.ACCOUNT_CREATED, by, target=username,
                         detail={"role": role, "level": level, "jurisdiction": jurisdiction_id})
    return int(account_id)


def update_account(engine: Engine, *, by: Scope, account_id: int, name: str | None = None,
                   role: str | None = None, level: str | None = None,
                   jurisdiction_id: int | None = None, disabled: bool | None = None,
                   email: str | None = None) -> None:
    """Change role, jurisdiction, name, e-mail or the disabled flag; disabling signs out."""
    now = clock_now()
    with engine.begin() as conn:
        account = _managed(conn, by, account_id)
        if by.viewer is not None and account.id == by.viewer.account_id and (
                disabled or (role and role != account.role)):
            raise RuleError("accounts.error.self_change")
        values: dict[str, object] = {}
        if name is not None and name.strip():
            values["name"] = name.strip()[:64]
        if email is not None:
            values["email"] = email.strip().lower() or None
        if role is not None or level is not None:
            new_role, new_level = role or account.role, level or account.level
            new_id = None if new_level == "district" else jurisdiction_id
            _check_grant(conn, by, new_role, new_level, new_id)
            values.update(role=new_role, level=new_level, jurisdiction_id=new_id)
        if disabled is not None:
            values["disabled"] = bool(disabled)
            if disabled:
                _revoke_sessions(conn, account.id, now)
        changes = {k: v for k, v in values.items() if getattr(account, k) != v}
        if not changes:
            return
        conn.execute(update(Account).where(Account.id == account.id).values(**changes))
        audit.record_for(conn, AuditAction.ACCOUNT_CHANGED, by, target=account.username,
                         detail=changes)


def reset_password(engine: Engine, *, by: Scope, account_id: int, new_password: str) -> None:
    """Set a temporary password the holder must change; signs the account out everywhere."""
    check_password_policy(new_password)
    now = clock_now()
    with engine.begin() as conn:
        account = _managed(conn, by, account_id)
        conn.execute(update(Account).where(Account.id == account.id).values(
            password_hash=hash_password(new_password), must_change_password=True,
            failed_attempts=0, locked_until=None))
        _revoke_sessions(conn, account.id, now)
        audit.record_for(conn, AuditAction.PASSWORD_RESET, by, target=account.username)


def list_accounts(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """The accounts inside the viewer's jurisdiction that the viewer may see, by username."""
    _require_manager(scope)
    with engine.connect() as conn:
        rows = _orm(conn).scalars(select(Account).order_by(Account.username)).all()
        viewer = scope.viewer
        keep = [a for a in rows if viewer is None or jurisdiction_contains(
            conn, (viewer.level, viewer.jurisdiction_id), (a.level, a.jurisdiction_id))]
    return pd.DataFrame(
        [{"id": a.id, "username": a.username, "name": a.name, "role": a.role, "level": a.level,
          "jurisdiction_id": a.jurisdiction_id, "email": a.email or "", "disabled": a.disabled,
          "must_change_password": a.must_change_password, "locked_until": a.locked_until,
          "last_sign_in_at": a.last_sign_in_at} for a in keep],
        columns=["id", "username", "name", "role", "level", "jurisdiction_id", "email",
                 "disabled", "must_change_password", "locked_until", "last_sign_in_at"])


def jurisdiction_options(engine: Engine, *, scope: Scope, level: str) -> list[tuple[int, str]]:
    """(id, label) of the towns, areas or grids inside ``scope`` for an account's jurisdiction."""
    with engine.connect() as conn:
        if level == "town":
            stmt = select(Town.id, Town.name).where(scope.where(Town)).order_by(Town.code)
        elif level == "area":
            stmt = (select(Area.id, (Town.name + " " + Area.name).label("name"))
                    .select_from(Area).join(Town, Town.id == Area.town_id).where(scope.where(Area))
                    .order_by(Area.town_id, Area.id))
        elif level == "grid":
            stmt = (select(Grid.id, (Grid.code + " " + Grid.name).label("name"))
                    .where(scope.where(Grid)).order_by(Grid.code))
        else:
            return []
        return [(r.id, r.name) for r in conn.execute(stmt)]


def jurisdiction_label(engine: Engine, level: str, jurisdiction_id: int | None) -> str:
    """The name of a town, "town area" or "code grid" (empty for the district)."""
    if level == "district" or jurisdiction_id is None:
        return ""
    with engine.connect() as conn:
        if level == "town":
            stmt = select(Town.name).where(Town.id == jurisdiction_id)
        elif level == "area":
            stmt = (select(Town.name + " " + Area.name).select_from(Area)
                    .join(Town, Town.id == Area.town_id).where(Area.id == jurisdiction_id))
        else:
            stmt = select(Grid.code + " " + Grid.name).where(Grid.id == jurisdiction_id)
        return conn.scalar(stmt) or f"{level} {jurisdiction_id}"


def display_tokens(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """The display tokens of the display accounts the viewer manages (never the tokens)."""
    managed = set(list_accounts(engine, scope=scope).query("role == 'display'")["id"])
    stmt = (select(AuthToken.id, AuthToken.account_id, Account.username, AuthToken.label,
                   AuthToken.created_at, AuthToken.last_seen_at, AuthToken.revoked_at)
            .join(Account, Account.id == AuthToken.account_id)
            .where(AuthToken.kind == DISPLAY).order_by(AuthToken.id.desc()))
    with engine.connect() as conn:
        rows = [r for r in conn.execute(stmt).mappings() if r["account_id"] in managed]
    return pd.DataFrame(rows, columns=["id", "username", "label", "created_at", "last_seen_at",
                                       "revoked_at"])


def create_display_token(engine: Engine, *, by: Scope, account_id: int, label: str = "") -> str:
    """A new URL token for a display account; the token is shown once and never stored."""
    with engine.begin() as conn:
        account = _managed(conn, by, account_id)
        if account.role != Role.DISPLAY:
            raise RuleError("accounts.error.not_display")
    token = open_token(engine, account_id, kind=DISPLAY, label=label)
    audit.record_for(engine, AuditAction.DISPLAY_TOKEN_CREATED, by, target=account.username,
                     detail={"label": label})
    return token


def revoke_display_token(engine: Engine, *, by: Scope, token_id: int) -> None:
    with engine.begin() as conn:
        account_id = conn.scalar(select(AuthToken.account_id).where(
            AuthToken.id == token_id, AuthToken.kind == DISPLAY))
        if account_id is None:
            raise NotFoundError("accounts.error.not_found", account_id=token_id)
        account = _managed(conn, by, account_id)
        conn.execute(update(AuthToken).where(AuthToken.id == token_id)
                     .values(revoked_at=clock_now()))
        audit.record_for(conn, AuditAction.DISPLAY_TOKEN_REVOKED, by, target=account.username,
                         detail={"token_id": token_id})


# --- first run and single sign-on ---------------------------------------------------------------


def ensure_initial_admin(engine: Engine) -> str | None:
    """On a store without accounts, create ``admin`` with a random password it must change.

    Returns that password (to print once), or None when accounts exist already.
    """
    with engine.connect() as conn:
        if conn.scalar(select(func.count()).select_from(Account)):
            return None
    password = secrets.token_urlsafe(12)
    create_account(engine, by=Scope.district(), username="admin", name="Administrator",
                   role=Role.ADMIN, password=password, must_change_password=True)
    return password


def account_for_identity(engine: Engine, *, subject: str, email: str | None) -> SignIn:
    """Map a single sign-on identity (OIDC ``sub`` and e-mail) to an account.

    An account bound to ``subject`` wins; else an account whose e-mail matches and that is not
    bound yet is bound to it now. No match, or a disabled account, is refused and audited.
    """
    with engine.begin() as conn:
        account = _orm(conn).scalars(select(Account).where(
            Account.oidc_subject == subject)).first()
        if account is None and email:
            account = _orm(conn).scalars(select(Account).where(
                Account.email == email.strip().lower(), Account.oidc_subject.is_(None))).first()
            if account is not None:
                conn.execute(update(Account).where(Account.id == account.id)
                             .values(oidc_subject=subject))
        if account is None or account.disabled:
            audit.record(conn, AuditAction.SIGN_IN_FAILED, username=(email or subject)[:64],
                         detail={"reason": "sso_no_account" if account is None else "disabled"})
            return SignIn(refusal="accounts.error.sso_no_account" if account is None
                          else "accounts.error.disabled")
        conn.execute(update(Account).where(Account.id == account.id)
                     .values(last_sign_in_at=clock_now()))
        audit.record(conn, AuditAction.SIGN_IN, account_id=account.id, username=account.username,
                     detail={"via": "sso"})
        return SignIn(viewer=viewer_of(account))


def account_by_id(engine: Engine, account_id: int) -> Viewer | None:
    """The viewer of an enabled account (None when absent or disabled)."""
    with engine.connect() as conn:
        account = _orm(conn).scalars(select(Account).where(Account.id == account_id)).first()
    return None if account is None or account.disabled else viewer_of(account)
