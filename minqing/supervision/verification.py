"""Quarterly verification (季度核查): every item unfinished at a quarter's end, checked by the
township's leaders, verified or not, with a note.

An item is **unfinished at quarter end** when the case was opened on or before the quarter's last
day and was not closed by then (still open, or closed later). The share verified of a town is
items verified over its items unfinished at that quarter end.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, and_, case, func, or_, select

from minqing.clock import now
from minqing.clock import today as clock_today
from minqing.errors import InputError, Label, NotFoundError, RuleError
from minqing.models import Case, Grid, Town, Verification
from minqing.scope import Scope
from minqing.store import session_scope
from minqing.supervision import require_supervision


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_end(quarter: str) -> dt.date:
    """'2026Q3' -> 2026-09-30."""
    try:
        year, q = int(quarter[:4]), int(quarter[5:])
        if quarter[4] != "Q" or not 1 <= q <= 4:
            raise ValueError
    except (ValueError, IndexError):
        raise InputError("verify.error.quarter", field="quarter", quarter=quarter) from None
    first_next = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return first_next - dt.timedelta(days=1)


def last_ended_quarter(today: dt.date | None = None) -> str:
    """The most recent quarter that has ended by ``today``."""
    today = today or clock_today()
    start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return quarter_of(start - dt.timedelta(days=1))


def recent_quarters(today: dt.date | None = None, n: int = 8) -> list[str]:
    """The last ``n`` ended quarters, newest first."""
    out, day = [], quarter_end(last_ended_quarter(today))
    for _ in range(n):
        q = quarter_of(day)
        out.append(q)
        day = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1) - dt.timedelta(days=1)
    return out


def _unfinished(end: dt.date):
    return and_(Case.opened_on <= end, or_(Case.closed_on.is_(None), Case.closed_on > end))


def unfinished_items(engine: Engine, *, scope: Scope, quarter: str,
                     town_id: int | None = None) -> pd.DataFrame:
    """Items unfinished at the quarter's end, with their verification (if any), by town and code.

    Columns: case_id, code, title, town, grid, track, status, deadline, closed_on, verified
    (True / False / None when not checked yet), verifier, note.
    """
    end = quarter_end(quarter)
    stmt = (select(Case.id.label("case_id"), Case.code, Case.title, Town.name.label("town"),
                   Grid.name.label("grid"), Case.track, Case.status, Case.deadline, Case.closed_on,
                   Verification.verified, Verification.verifier, Verification.note)
            .join(Town, Town.id == Case.town_id).join(Grid, Grid.id == Case.grid_id)
            .outerjoin(Verification, and_(Verification.case_id == Case.id,
                                          Verification.quarter == quarter))
            .where(scope.where(Case), _unfinished(end))
            .order_by(Town.code, Case.code))
    if town_id is not None:
        stmt = stmt.where(Case.town_id == town_id)
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(),
                            columns=["case_id", "code", "title", "town", "grid", "track", "status",
                                     "deadline", "closed_on", "verified", "verifier", "note"])


def verify(engine: Engine, *, scope: Scope, case_id: int, quarter: str, verified: bool,
           verifier: str, note: str = "") -> int:
    """Record one item's verification for the quarter; once per item and quarter.

    Not verified needs a note saying what is wrong. Raises NotFoundError when the case is out of
    scope or was not unfinished at that quarter end, RuleError when already verified.
    """
    end = quarter_end(quarter)
    require_supervision(scope)
    verifier, note = scope.actor(verifier or "").strip(), (note or "").strip()
    if not verifier:
        raise InputError("case.error.required", field="verifier",
                         field_name=Label("verify.field.verifier"))
    if not verified and not note:
        raise InputError("case.error.required", field="note", field_name=Label("verify.field.note"))
    with session_scope(engine) as s:
        row = s.execute(select(Case.id, Case.town_id, Case.grid_id).where(
            scope.where(Case), Case.id == case_id, _unfinished(end))).first()
        if row is None:
            raise NotFoundError("verify.error.not_unfinished", case_id=case_id, quarter=quarter)
        done = s.scalar(select(Verification.verifier).where(
            Verification.case_id == case_id, Verification.quarter == quarter))
        if done is not None:
            raise RuleError("verify.error.already", verifier=done)
        v = Verification(case_id=case_id, town_id=row.town_id, grid_id=row.grid_id,
                         quarter=quarter, verified=bool(verified), verifier=verifier[:64],
                         note=note, at=now())
        s.add(v)
        s.flush()
        return v.id


def share_by_town(engine: Engine, *, scope: Scope, quarter: str) -> pd.DataFrame:
    """Per town: items unfinished at quarter end, checked, verified, and the share verified."""
    end = quarter_end(quarter)
    v = Verification
    stmt = (select(Town.id.label("town_id"), Town.name.label("town"),
                   func.count(Case.id).label("unfinished"),
                   func.count(v.id).label("checked"),
                   func.sum(case((v.verified.is_(True), 1), else_=0)).label("verified"))
            .join(Case, and_(Case.town_id == Town.id, _unfinished(end), scope.where(Case)))
            .outerjoin(v, and_(v.case_id == Case.id, v.quarter == quarter))
            .where(scope.where(Town))
            .group_by(Town.id, Town.name, Town.code).order_by(Town.code))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all(),
                             columns=["town_id", "town", "unfinished", "checked", "verified"])
    for col in ("unfinished", "checked", "verified"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").fillna(0).astype(int)
    frame["share"] = (frame["verified"] / frame["unfinished"].where(frame["unfinished"] > 0)).fillna(0.0)
    return frame
