"""The audit trail: who signed in or failed to, who viewed unmasked personal data or exported it,
and every change to an account. Append-only: the rows are only ever inserted, and triggers on
both SQLite and PostgreSQL (migration ``0006_accounts``) refuse any UPDATE or DELETE.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum

import pandas as pd
from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.orm import Session

from minqing.access import AccessDenied
from minqing.clock import now as clock_now
from minqing.models import AuditEvent
from minqing.scope import Scope

__all__ = ["AuditAction", "record", "search"]

COLUMNS = ["id", "at", "username", "action", "target", "detail"]


class AuditAction(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"
    LOCKED_OUT = "locked_out"
    SIGN_OUT = "sign_out"
    SESSION_EXPIRED = "session_expired"
    PASSWORD_CHANGED = "password_changed"
    VIEW_PERSONAL_DATA = "view_personal_data"
    EXPORT = "export"
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_CHANGED = "account_changed"
    PASSWORD_RESET = "password_reset"
    DISPLAY_TOKEN_CREATED = "display_token_created"
    DISPLAY_TOKEN_REVOKED = "display_token_revoked"


def _values(action: str, *, account_id: int | None, username: str, target: str,
            detail: dict | str, at: dt.datetime | None) -> dict:
    text = detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False,
                                                             sort_keys=True, default=str)
    return {"at": at or clock_now(), "account_id": account_id, "username": username[:64],
            "action": AuditAction(action).value, "target": str(target)[:64], "detail": text}


def record(where: Engine | Connection | Session, action: str, *, account_id: int | None = None,
           username: str = "", target: str = "", detail: dict | str = "",
           at: dt.datetime | None = None) -> None:
    """Append one audit row: in its own transaction for an engine, else in the caller's."""
    stmt = insert(AuditEvent).values(**_values(action, account_id=account_id, username=username,
                                               target=target, detail=detail, at=at))
    if isinstance(where, Engine):
        with where.begin() as conn:
            conn.execute(stmt)
    else:
        where.execute(stmt)


def record_for(where: Engine | Connection | Session, action: str, scope: Scope, *,
               target: str = "", detail: dict | str = "") -> None:
    """Append a row for the viewer of ``scope`` (system scopes are recorded as ``system``)."""
    viewer = scope.viewer
    record(where, action, account_id=viewer.account_id if viewer else None,
           username=viewer.username if viewer else "system", target=target, detail=detail)


def search(engine: Engine, *, scope: Scope, actions: tuple[str, ...] = (), username: str = "",
           since: dt.date | None = None, until: dt.date | None = None, text: str = "",
           limit: int = 500) -> pd.DataFrame:
    """Audit rows, newest first, filtered by action, account name, day range and free text."""
    if not scope.reads_audit:
        raise AccessDenied("access.error.audit")
    stmt = select(AuditEvent.id, AuditEvent.at, AuditEvent.username, AuditEvent.action,
                  AuditEvent.target, AuditEvent.detail)
    if actions:
        stmt = stmt.where(AuditEvent.action.in_(actions))
    if username.strip():
        stmt = stmt.where(AuditEvent.username == username.strip())
    if since:
        stmt = stmt.where(AuditEvent.at >= dt.datetime.combine(since, dt.time.min))
    if until:
        stmt = stmt.where(AuditEvent.at < dt.datetime.combine(until + dt.timedelta(days=1),
                                                              dt.time.min))
    if text.strip():
        like = f"%{text.strip()}%"
        stmt = stmt.where(AuditEvent.target.like(like) | AuditEvent.detail.like(like))
    stmt = stmt.order_by(AuditEvent.id.desc()).limit(limit)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(), columns=COLUMNS)
