"""Year-end scoring and ranking of the cadres' diaries (年终评比), with "service star" awards.

A supervisor configures the weights per year (:class:`Weights`, stored as a
:class:`~minqing.models.ScoringRule`). Every item comes from a KPI of :mod:`minqing.kpi`
evaluated by cadre over the year, so a score uses exactly the numbers the KPI pages show:

========================= ================================ ===================================
item                      value (KPI)                      points
========================= ================================ ===================================
entries                   ``diary_entries``                value x weight
solved                    ``problems_solved``              value x weight
on_time                   ``on_time_rate`` (in %)          value x 100 x weight (none: 0)
satisfaction              ``satisfaction_rate`` (in %)     value x 100 x weight (none: 0)
reviews                   ``reviews_passed``               value x weight
late (a penalty)          ``late_cases``                   value x weight (a negative weight)
========================= ================================ ===================================

Each item's points are rounded to two decimals and the score is their sum, so the explanation
always adds up to the score shown. The top ``stars`` cadres are the year's service stars; ties go
to the cadre with more entries, then to the lower id. Publishing freezes a year's ranking
(:class:`~minqing.models.Score`); unpublished years are computed live.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

import pandas as pd
from sqlalchemy import Engine, delete, select

from minqing.access import AccessDenied
from minqing.clock import now
from minqing.clock import today as clock_today
from minqing.errors import InputError, Label
from minqing.kpi import evaluate
from minqing.models import Cadre, Score, ScoringRule, Town
from minqing.scope import Scope
from minqing.store import session_scope
from minqing.supervision import require_supervision

#: item -> (KPI key, shown as a rate in per cent)
ITEMS: dict[str, tuple[str, bool]] = {
    "entries": ("diary_entries", False),
    "solved": ("problems_solved", False),
    "on_time": ("on_time_rate", True),
    "satisfaction": ("satisfaction_rate", True),
    "reviews": ("reviews_passed", False),
    "late": ("late_cases", False),
}


@dataclass(frozen=True)
class Weights:
    """Points per unit of each item (per entry, per case, per percentage point...)."""

    entries: float = 0.5
    solved: float = 1.0
    on_time: float = 0.3
    satisfaction: float = 0.2
    reviews: float = 0.2
    late: float = -2.0
    stars: int = 10

    def weight(self, item: str) -> float:
        return float(getattr(self, item))


def weights_for(engine: Engine, *, year: int) -> Weights:
    """The year's configured weights, or the defaults."""
    with engine.connect() as conn:
        row = conn.execute(select(ScoringRule.weights, ScoringRule.stars)
                           .where(ScoringRule.year == year)).first()
    if row is None:
        return Weights()
    stored = json.loads(row.weights)
    return Weights(**{k: float(v) for k, v in stored.items() if k in ITEMS}, stars=row.stars)


def save_weights(engine: Engine, *, year: int, weights: Weights, actor: str,
                 at: dt.datetime | None = None, scope: Scope | None = None) -> None:
    """Store the year's criteria (who set them, when). The late-case weight must not reward."""
    scope = scope or Scope.district()
    require_supervision(scope)
    actor = scope.actor(actor or "").strip()
    if not actor:
        raise InputError("case.error.required", field="actor", field_name=Label("sv.actor"))
    if weights.late > 0:
        raise InputError("score.error.penalty", field="late")
    if not 0 <= weights.stars <= 1000:
        raise InputError("score.error.stars", field="stars")
    values = {k: v for k, v in asdict(weights).items() if k in ITEMS}
    with session_scope(engine) as s:
        rule = s.get(ScoringRule, year) or ScoringRule(year=year)
        rule.weights = json.dumps(values)
        rule.stars = int(weights.stars)
        rule.updated_by = actor[:64]
        rule.updated_at = at or now()
        s.merge(rule)


def year_bounds(year: int, today: dt.date | None = None) -> tuple[dt.date, dt.date, dt.date]:
    """(first day, last day, the day open/overdue are judged on) of a year."""
    today = today or clock_today()
    end = dt.date(year, 12, 31)
    return dt.date(year, 1, 1), end, min(end, today)


def compute(engine: Engine, *, scope: Scope, year: int, weights: Weights | None = None,
            today: dt.date | None = None) -> pd.DataFrame:
    """The year's ranking computed from the KPIs (not stored): one row per cadre with records.

    Columns: cadre_id, name, town, score, rank, star, and per item ``<item>`` (the value) and
    ``<item>_points``.
    """
    weights = weights or weights_for(engine, year=year)
    since, until, judged = year_bounds(year, today)
    table = evaluate(engine, scope=scope, by="cadre", since=since, until=until, today=judged,
                     kpis=[kpi for kpi, _ in ITEMS.values()])
    out = pd.DataFrame({"cadre_id": table.index.astype(int), "name": table["name"].to_numpy()})
    total = pd.Series(0.0, index=out.index)
    for item, (kpi, is_rate) in ITEMS.items():
        value = table[kpi].astype(float).to_numpy()
        unit = pd.Series(value * 100 if is_rate else value).fillna(0.0)
        points = (unit * weights.weight(item)).round(2)
        out[item] = value
        out[f"{item}_points"] = points.to_numpy()
        total = total + points
    out["score"] = total.round(2)
    out["town"] = _towns(engine, out["cadre_id"].tolist())
    return _rank(out, weights.stars)


def _rank(out: pd.DataFrame, stars: int) -> pd.DataFrame:
    out = out.sort_values(["score", "entries", "cadre_id"], ascending=[False, False, True])
    out = out.reset_index(drop=True)
    out["rank"] = range(1, len(out) + 1)
    out["star"] = out["rank"] <= stars
    return out


def _towns(engine: Engine, cadre_ids: list[int]) -> list[str | None]:
    if not cadre_ids:
        return []
    with engine.connect() as conn:
        names = dict(conn.execute(select(Cadre.id, Town.name)
                                  .outerjoin(Town, Town.id == Cadre.town_id)
                                  .where(Cadre.id.in_(cadre_ids))).all())
    return [names.get(i) for i in cadre_ids]


def explain(row: pd.Series | dict, *, weights: Weights | None = None) -> pd.DataFrame:
    """The items that make up one cadre's score: item, KPI, value, weight, points (summing to
    the score)."""
    weights = weights or Weights()
    rows = []
    for item, (kpi, is_rate) in ITEMS.items():
        value = row[item]
        rows.append({"item": item, "kpi": kpi, "value": value, "is_rate": is_rate,
                     "weight": weights.weight(item), "points": float(row[f"{item}_points"])})
    return pd.DataFrame(rows)


def publish(engine: Engine, *, scope: Scope, year: int, today: dt.date | None = None) -> int:
    """Freeze the year's ranking (replacing an earlier publication); returns the rows stored.
    The ranking covers the whole district whatever ``scope`` is narrowed to; ``scope`` says who
    publishes."""
    require_supervision(scope)
    if scope.level != "district":
        raise AccessDenied("score.error.district_only")
    weights = weights_for(engine, year=year)
    ranking = compute(engine, scope=scope, year=year, weights=weights, today=today)
    with session_scope(engine) as s:
        s.execute(delete(Score).where(Score.year == year))
        towns = dict(s.execute(select(Cadre.id, Cadre.town_id)
                               .where(Cadre.id.in_(ranking["cadre_id"].tolist()))).all())
        s.add_all(Score(
            year=year, cadre_id=int(r["cadre_id"]), town_id=towns.get(int(r["cadre_id"])),
            score=float(r["score"]), rank=int(r["rank"]), star=bool(r["star"]),
            items=json.dumps({"weights": {k: weights.weight(k) for k in ITEMS},
                              **{k: _plain(r[k]) for k in ITEMS},
                              **{f"{k}_points": float(r[f"{k}_points"]) for k in ITEMS}}))
            for r in ranking.to_dict("records"))
    return len(ranking)


def _plain(value: float) -> float | None:
    return None if pd.isna(value) else float(value)


def published(engine: Engine, *, scope: Scope, year: int) -> tuple[pd.DataFrame, Weights] | None:
    """A published year's ranking in the shape of :func:`compute`, with the weights it used;
    None when the year was not published. Only cadres of towns in scope (all when district)."""
    stmt = (select(Score.cadre_id, Cadre.name, Town.name.label("town"), Score.score, Score.rank,
                   Score.star, Score.items)
            .join(Cadre, Cadre.id == Score.cadre_id).outerjoin(Town, Town.id == Score.town_id)
            .where(Score.year == year).order_by(Score.rank))
    if scope.level != "district":
        stmt = stmt.where(Score.town_id.in_(select(Town.id).where(scope.where(Town))))
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    if not rows:
        return None
    records, weights = [], None
    for r in rows:
        items = json.loads(r["items"])
        weights = weights or Weights(**items["weights"])
        records.append({"cadre_id": r["cadre_id"], "name": r["name"], "town": r["town"],
                        "score": r["score"], "rank": r["rank"], "star": bool(r["star"]),
                        **{k: (float("nan") if items.get(k) is None else items[k])
                           for k in ITEMS},
                        **{f"{k}_points": items[f"{k}_points"] for k in ITEMS}})
    return pd.DataFrame(records), weights
