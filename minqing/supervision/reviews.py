"""Weekly diary review (周查) by area heads: the queue, the review itself, cadres who are behind.

Membership rules, stated once:

* the **queue** of an area holds its diary entries of the last :data:`QUEUE_DAYS` days (up to
  today) that nobody has reviewed yet, oldest first;
* an entry is **returned** when it was sent back with a request and has not been passed since;
* a cadre is **behind** when they wrote no entry in the last ``silent_days`` days (or none at
  all), or have entries older than :data:`REVIEW_WITHIN_DAYS` days that are still unreviewed,
  or have returned entries. The cadres of an area are the leaders of its grids' service groups
  and anyone who wrote in its grids within the queue window.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import pandas as pd
from sqlalchemy import Engine, and_, case, exists, func, select

from minqing.clock import now
from minqing.clock import today as clock_today
from minqing.errors import InputError, Label, NotFoundError, RuleError
from minqing.models import Area, Cadre, DiaryEntry, DiaryReview, Grid, ServiceGroup
from minqing.scope import Scope
from minqing.store import session_scope
from minqing.supervision import require_supervision

QUEUE_DAYS = 28
"""The queue looks back four weeks: older unreviewed entries are counted, not queued."""
REVIEW_WITHIN_DAYS = 7
"""An entry should be reviewed within a week of being written."""
SILENT_DAYS = 14
"""Default "no entry in N days" threshold for a cadre to be behind."""


class Outcome(StrEnum):
    PASSED = "passed"  # 通过
    RETURNED = "returned"  # 退回补充


def _reviewed(outcome: str | None = None):
    """SQL: the entry has a review (of ``outcome``, when given)."""
    cond = DiaryReview.entry_id == DiaryEntry.id
    if outcome:
        cond = and_(cond, DiaryReview.outcome == outcome)
    return exists().where(cond)


def _count(condition):
    return func.sum(case((condition, 1), else_=0))


def _in_area(area_id: int):
    return DiaryEntry.grid_id.in_(select(Grid.id).where(Grid.area_id == area_id))


def area_choices(engine: Engine, *, scope: Scope) -> list[tuple[int, str, str]]:
    """(id, name, head name) of the areas in scope, for pickers."""
    stmt = select(Area.id, Area.name, Area.head_name).where(scope.where(Area)).order_by(Area.id)
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(stmt)]


def review_queue(engine: Engine, *, scope: Scope, area_id: int,
                 today: dt.date | None = None) -> pd.DataFrame:
    """Entries of the area awaiting review, oldest first (see the module's rules).

    Columns: id, entry_date, grid, cadre, kind, source, risk_level, text.
    """
    today = today or clock_today()
    since = today - dt.timedelta(days=QUEUE_DAYS)
    stmt = (
        select(DiaryEntry.id, DiaryEntry.entry_date, Grid.name.label("grid"),
               Cadre.name.label("cadre"), DiaryEntry.kind, DiaryEntry.source,
               DiaryEntry.risk_level, DiaryEntry.text)
        .join(Grid, Grid.id == DiaryEntry.grid_id).join(Cadre, Cadre.id == DiaryEntry.cadre_id)
        .where(scope.where(DiaryEntry), _in_area(area_id), DiaryEntry.entry_date > since,
               DiaryEntry.entry_date <= today, ~_reviewed())
        .order_by(DiaryEntry.entry_date, DiaryEntry.id)
    )
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(),
                            columns=["id", "entry_date", "grid", "cadre", "kind", "source",
                                     "risk_level", "text"])


def returned_entries(engine: Engine, *, scope: Scope, area_id: int) -> pd.DataFrame:
    """Entries sent back and not passed since, with the latest request, oldest first."""
    latest = (select(DiaryReview.comment).where(DiaryReview.entry_id == DiaryEntry.id,
                                                DiaryReview.outcome == Outcome.RETURNED.value)
              .order_by(DiaryReview.reviewed_at.desc()).limit(1).scalar_subquery())
    stmt = (
        select(DiaryEntry.id, DiaryEntry.entry_date, Grid.name.label("grid"),
               Cadre.name.label("cadre"), DiaryEntry.text, latest.label("request"))
        .join(Grid, Grid.id == DiaryEntry.grid_id).join(Cadre, Cadre.id == DiaryEntry.cadre_id)
        .where(scope.where(DiaryEntry), _in_area(area_id), _reviewed(Outcome.RETURNED.value),
               ~_reviewed(Outcome.PASSED.value))
        .order_by(DiaryEntry.entry_date, DiaryEntry.id)
    )
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(),
                            columns=["id", "entry_date", "grid", "cadre", "text", "request"])


def review_entry(engine: Engine, *, scope: Scope, entry_id: int, outcome: str, reviewer: str,
                 comment: str = "", today: dt.date | None = None) -> int:
    """Record a review; returns its id. Sending back needs the request (the comment).

    Raises NotFoundError (no such entry in scope), InputError (outcome, reviewer, request) and
    RuleError (the entry was passed already).
    """
    today = today or clock_today()
    require_supervision(scope)
    reviewer, comment = scope.actor(reviewer or "").strip(), (comment or "").strip()
    if outcome not in {o.value for o in Outcome}:
        raise InputError("review.error.outcome", field="outcome")
    if not reviewer:
        raise InputError("case.error.required", field="reviewer",
                         field_name=Label("review.field.reviewer"))
    if outcome == Outcome.RETURNED.value and not comment:
        raise InputError("case.error.required", field="comment",
                         field_name=Label("review.field.request"))
    with session_scope(engine) as s:
        entry = s.execute(select(DiaryEntry.id, DiaryEntry.town_id, DiaryEntry.grid_id)
                          .where(scope.where(DiaryEntry), DiaryEntry.id == entry_id)).first()
        if entry is None:
            raise NotFoundError("review.error.not_found", entry_id=entry_id)
        passed = s.scalar(select(func.count()).select_from(DiaryReview).where(
            DiaryReview.entry_id == entry_id, DiaryReview.outcome == Outcome.PASSED.value))
        if passed:
            raise RuleError("review.error.already_passed", entry_id=entry_id)
        review = DiaryReview(entry_id=entry_id, town_id=entry.town_id, grid_id=entry.grid_id,
                             reviewer=reviewer[:64], outcome=outcome, comment=comment,
                             reviewed_on=today, reviewed_at=now())
        s.add(review)
        s.flush()
        return review.id


def cadres_behind(engine: Engine, *, scope: Scope, area_id: int, today: dt.date | None = None,
                  silent_days: int = SILENT_DAYS) -> pd.DataFrame:
    """Every cadre of the area with their diary counters and why they are behind (if they are).

    Columns: cadre_id, cadre, last_entry, days_since, entries_28d, unreviewed_late, returned,
    reasons (list of "silent" / "unreviewed" / "returned"), behind (bool). Behind first.
    """
    today = today or clock_today()
    since = today - dt.timedelta(days=QUEUE_DAYS)
    late = today - dt.timedelta(days=REVIEW_WITHIN_DAYS)
    grids = select(Grid.id).where(Grid.area_id == area_id, scope.where(Grid))
    leaders = select(ServiceGroup.leader_cadre_id).where(ServiceGroup.grid_id.in_(grids))
    writers = select(DiaryEntry.cadre_id).where(DiaryEntry.grid_id.in_(grids),
                                                DiaryEntry.entry_date > since)
    in_area = DiaryEntry.grid_id.in_(grids)
    counters = (
        select(
            DiaryEntry.cadre_id,
            func.max(DiaryEntry.entry_date).label("last_entry"),
            _count(DiaryEntry.entry_date > since).label("entries_28d"),
            _count(and_(DiaryEntry.entry_date > since, DiaryEntry.entry_date <= late,
                        ~_reviewed())).label("unreviewed_late"),
            _count(and_(_reviewed(Outcome.RETURNED.value),
                        ~_reviewed(Outcome.PASSED.value))).label("returned"),
        )
        .where(in_area, DiaryEntry.entry_date <= today)
        .group_by(DiaryEntry.cadre_id)
    )
    people = select(Cadre.id.label("cadre_id"), Cadre.name.label("cadre")).where(
        Cadre.id.in_(leaders.union(writers)))
    with engine.connect() as conn:
        who = pd.DataFrame(conn.execute(people).mappings().all(), columns=["cadre_id", "cadre"])
        nums = pd.DataFrame(conn.execute(counters).mappings().all(),
                            columns=["cadre_id", "last_entry", "entries_28d", "unreviewed_late",
                                     "returned"])
    table = who.merge(nums, on="cadre_id", how="left")
    for col in ("entries_28d", "unreviewed_late", "returned"):
        table[col] = pd.to_numeric(table[col], errors="coerce").fillna(0).astype(int)
    last = pd.to_datetime(table["last_entry"])
    table["last_entry"] = last.dt.date
    table["days_since"] = (pd.Timestamp(today) - last).dt.days.astype("Int64")
    silent = table["days_since"].isna() | (table["days_since"] > silent_days)
    table["reasons"] = [
        [code for code, flag in (("silent", s), ("unreviewed", u > 0), ("returned", r > 0)) if flag]
        for s, u, r in zip(silent, table["unreviewed_late"], table["returned"], strict=True)
    ]
    table["behind"] = table["reasons"].map(bool)
    return table.sort_values(["behind", "days_since", "cadre"], ascending=[False, False, True],
                             na_position="first").reset_index(drop=True)


def unreviewed_by_grid(engine: Engine, *, scope: Scope, today: dt.date | None = None) -> pd.Series:
    """Entries awaiting review per grid (the queue's rule), for the grid page and the map."""
    today = today or clock_today()
    since = today - dt.timedelta(days=QUEUE_DAYS)
    stmt = (select(DiaryEntry.grid_id, func.count().label("n"))
            .where(scope.where(DiaryEntry), DiaryEntry.entry_date > since,
                   DiaryEntry.entry_date <= today, ~_reviewed())
            .group_by(DiaryEntry.grid_id))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.Series(dict(rows), dtype=int, name="unreviewed")



def grid_review_status(engine: Engine, *, scope: Scope, grid_id: int,
                       today: dt.date | None = None) -> tuple[int, int] | None:
    """(entries awaiting review by the queue's rule, the grid's area id) for the grid page."""
    with engine.connect() as conn:
        area_id = conn.scalar(select(Grid.area_id).where(scope.where(Grid), Grid.id == grid_id))
    if area_id is None:
        return None
    waiting = unreviewed_by_grid(engine, scope=Scope.grid(grid_id), today=today)
    return int(waiting.get(grid_id, 0)), int(area_id)
