"""Cadre pairings (结对) rebalanced: every paired cadre's load within bounds, few changes.

A cadre's load is the number of backbone members (central households, community service
workers) paired with them. Pairings only move inside a *pool*: the cadres of one level and one
area (district cadres: the whole district; town and village cadres: their town), so a pairing
never leaves the cadre's level or area. Within a pool any member may go to any cadre, so the
least number of changes is the larger of the pool's total excess above the maximum and total
shortfall below the minimum, and the plan reaches it whenever the pool can be balanced at all;
the member handed over is the one nearest the receiving cadre's other members.

Applying a plan rewrites ``pairings.cadre_id`` and appends an audited event (who, when, why) to
the current grid layer version's trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select, update

from geo.rebalance import Note
from minqing import clock, layers
from minqing.access import protect
from minqing.errors import ConflictError, InputError
from minqing.models import Cadre, Grid, GridLayer, GroupMember, Household, Pairing, ServiceGroup
from minqing.scope import Scope
from minqing.sizing import Bounds, deviation

__all__ = ["PairingPlan", "apply_pairings", "cadre_loads", "propose_pairings"]


def _pairings(engine: Engine, town_ids: list[int] | None) -> pd.DataFrame:
    stmt = (select(Pairing.id, Pairing.cadre_id, Pairing.member_id, Pairing.level,
                   Cadre.name.label("cadre"), Cadre.town_id.label("cadre_town"),
                   GroupMember.name.label("member"), Grid.town_id, Grid.code.label("grid"),
                   Household.lon, Household.lat, ServiceGroup.lon.label("group_lon"),
                   ServiceGroup.lat.label("group_lat"))
            .join(Cadre, Cadre.id == Pairing.cadre_id)
            .join(GroupMember, GroupMember.id == Pairing.member_id)
            .join(ServiceGroup, ServiceGroup.id == GroupMember.group_id)
            .join(Grid, Grid.id == ServiceGroup.grid_id)
            .outerjoin(Household, Household.id == GroupMember.household_id)
            .order_by(Pairing.id))
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(stmt)]
    frame = pd.DataFrame(rows, columns=["pairing_id", "cadre_id", "member_id", "level", "cadre",
                                        "cadre_town", "member", "town_id", "grid", "lon", "lat",
                                        "group_lon", "group_lat"])
    frame["lon"] = frame["lon"].fillna(frame["group_lon"])
    frame["lat"] = frame["lat"].fillna(frame["group_lat"])
    frame["pool_town"] = np.where(frame["level"] == "district", 0,
                                  frame["cadre_town"].fillna(0)).astype(int)
    frame = frame.drop(columns=["group_lon", "group_lat"])
    if town_ids is not None:  # a town's own pools (district cadres are the district's)
        frame = frame[frame["pool_town"].isin(town_ids)]
    return frame.reset_index(drop=True)


def _scope_towns(scope: Scope) -> list[int] | None:
    """The pools a scope plans: every pool for the district, its own town's for a town."""
    return None if scope.level == "district" else [int(scope.id)]


def cadre_loads(engine: Engine, *, scope: Scope, bounds: Bounds) -> pd.DataFrame:
    """Every paired cadre in ``scope``'s pools: cadre_id, cadre (masked for roles that do not
    see personal data), level, pool_town (0 for the district), load, low, high, deviation (> 0
    above the maximum, < 0 below the minimum)."""
    frame = _pairings(engine, _scope_towns(scope))
    return protect(_loads(frame, bounds), scope, {"cadre": "name"})


def _loads(frame: pd.DataFrame, bounds: Bounds) -> pd.DataFrame:
    out = (frame.groupby(["cadre_id", "cadre", "level", "pool_town"]).size()
           .rename("load").reset_index())
    out["low"] = [bounds.pairing(v)[0] for v in out["level"]]
    out["high"] = [bounds.pairing(v)[1] for v in out["level"]]
    out["deviation"] = [deviation(n, lo, hi) for n, lo, hi in
                        zip(out["load"], out["low"], out["high"], strict=True)]
    return out.sort_values(["level", "pool_town", "cadre_id"]).reset_index(drop=True)


@dataclass
class PairingPlan:
    """Moves of pairings to other cadres of the same pool; ``notes`` explain pools that could
    not be balanced (they are left unchanged)."""

    moves: pd.DataFrame  # pairing_id, member, grid, level, pool_town, from_cadre, to_cadre (+ ids)
    before: pd.DataFrame  # cadre loads before
    after: pd.DataFrame  # cadre loads after
    lower_bound: int
    notes: list[Note] = field(default_factory=list)


def propose_pairings(engine: Engine, *, scope: Scope, bounds: Bounds) -> PairingPlan:
    """Move pairings from cadres above their maximum (or with room to spare) to cadres below
    their minimum (or with room to take), pool by pool, as few as the bounds need. Names in
    the plan are masked for roles that do not see personal data."""
    from minqing.planner import require_planner

    require_planner(scope, _scope_towns(scope) or ())
    frame = _pairings(engine, _scope_towns(scope))
    before = _loads(frame, bounds)
    owner = frame.set_index("pairing_id")["cadre_id"].to_dict()
    notes: list[Note] = []
    lower = 0
    moves: list[tuple[int, int, int]] = []
    for (level, town), pool in before.groupby(["level", "pool_town"]):
        lo, hi = bounds.pairing(level)
        load = dict(zip(pool["cadre_id"], pool["load"], strict=True))
        total, n = sum(load.values()), len(load)
        excess = sum(max(0, v - hi) for v in load.values())
        short = sum(max(0, lo - v) for v in load.values())
        lower += max(excess, short)
        if not excess and not short:
            continue
        if not n * lo <= total <= n * hi:
            notes.append(Note("pairing.note.pool", {"level": level, "town": int(town),
                                                    "members": total, "cadres": n,
                                                    "low": lo, "high": hi}))
            continue
        mine = frame[frame["pairing_id"].map(owner).isin(load.keys())
                     & (frame["level"] == level)]
        xy = mine.set_index("pairing_id")[["lon", "lat"]]
        held = {c: [p for p in mine["pairing_id"] if owner[p] == c] for c in load}
        while True:
            givers = [c for c in load if load[c] > hi]
            takers = [c for c in load if load[c] < lo]
            if not givers and not takers:
                break
            if not givers:  # a shortfall: take from whoever has the most room above the minimum
                givers = [max((c for c in load if load[c] > lo), key=lambda c: (load[c], -c))]
            if not takers:  # an excess: give to whoever has the most room below the maximum
                takers = [min((c for c in load if load[c] < hi), key=lambda c: (load[c], c))]
            giver = max(givers, key=lambda c: (load[c], -c))
            taker = min(takers, key=lambda c: (load[c], c))
            pick = _nearest(held[giver], held[taker], xy)
            held[giver].remove(pick)
            held[taker].append(pick)
            owner[pick] = taker
            load[giver] -= 1
            load[taker] += 1
            moves.append((pick, giver, taker))
    names = dict(zip(before["cadre_id"], before["cadre"], strict=True))
    info = frame.set_index("pairing_id")
    move_frame = pd.DataFrame([
        {"pairing_id": p, "member": info.at[p, "member"], "grid": info.at[p, "grid"],
         "level": info.at[p, "level"], "pool_town": int(info.at[p, "pool_town"]),
         "from_cadre_id": g, "from_cadre": names[g], "to_cadre_id": r, "to_cadre": names[r]}
        for p, g, r in _net(moves)],
        columns=["pairing_id", "member", "grid", "level", "pool_town", "from_cadre_id",
                 "from_cadre", "to_cadre_id", "to_cadre"])
    moved = frame.assign(cadre_id=frame["pairing_id"].map(owner))
    moved["cadre"] = moved["cadre_id"].map(names)
    names_rule = {"member": "name", "from_cadre": "name", "to_cadre": "name", "cadre": "name"}
    return PairingPlan(moves=protect(move_frame, scope, names_rule),
                       before=protect(before, scope, names_rule),
                       after=protect(_loads(moved, bounds), scope, names_rule),
                       lower_bound=lower, notes=notes)


def _net(moves: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """One move per pairing, from its first owner to its last (a pairing moved twice counts once;
    one moved back is no move)."""
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for p, g, r in moves:
        first.setdefault(p, g)
        last[p] = r
    return [(p, first[p], last[p]) for p in first if first[p] != last[p]]


def _nearest(giver: list[int], taker: list[int], xy: pd.DataFrame) -> int:
    """The giver's member nearest the taker's members (their centre); any when the taker has none."""
    if not taker:
        return giver[0]
    centre = xy.loc[taker].to_numpy(dtype=float).mean(axis=0)
    pts = xy.loc[giver].to_numpy(dtype=float)
    return giver[int(np.argmin(((pts - centre) ** 2).sum(axis=1)))]


def apply_pairings(engine: Engine, plan: PairingPlan, *, scope: Scope, reason: str) -> int:
    """Write the moves (each checked against the pairing's current cadre) and audit them as the
    viewer of ``scope`` (planning roles only, inside their jurisdiction).

    Raises :class:`ConflictError` when a pairing changed since the plan was made.
    """
    from minqing.planner import require_planner

    towns = {int(t) for t in plan.moves["pool_town"]}
    require_planner(scope, towns)
    actor = scope.actor("system")
    if not (reason or "").strip():
        raise InputError("layers.error.reason", field="reason")
    with engine.begin() as conn:
        layer_id = conn.scalar(select(GridLayer.id).where(GridLayer.is_current.is_(True)))
        if layer_id is None:
            raise InputError("layers.error.no_current", field="layer")
        for row in plan.moves.itertuples():
            res = conn.execute(update(Pairing).where(Pairing.id == int(row.pairing_id),
                                                     Pairing.cadre_id == int(row.from_cadre_id))
                               .values(cadre_id=int(row.to_cadre_id)))
            if res.rowcount != 1:
                raise ConflictError("pairing.error.conflict")
        layers.record_event(conn, layer_id, actor[:64], "pairings", reason.strip(),
                      {"moved": len(plan.moves), "at": clock.now().isoformat()})
    return len(plan.moves)
