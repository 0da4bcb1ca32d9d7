"""The planner: grids out of bounds, a rebalancing proposal, hand edits, compare, publish.

A :class:`Proposal` is an in-memory plan for some towns, built from the current grid layer
version: every household's grid before and after, every grid's polygon before and after, and the
notes that explain splits, merges and towns that could not be balanced. It is edited by hand
(:func:`move_households`), compared (:func:`compare_grids`, :func:`moves`, :func:`summary`),
exported (:func:`export_xlsx`) and finally published as a new layer version
(:func:`publish`, through :mod:`minqing.layers`), which is when anything is written.

The spatial work is in :mod:`geo.rebalance` (the algorithm), :mod:`geo.regrid` (the new
boundaries) and :mod:`geo.adjacency` (contiguity, cut edges, compactness).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, func, select

from geo.adjacency import HouseholdGraph, components, cut_edges, household_graph, polsby_popper
from geo.rebalance import Note, rebalance_town
from geo.regrid import redraw
from minqing import group_sync, i18n, layers
from minqing.access import PLANS_GRIDS, AccessDenied
from minqing.errors import InputError
from minqing.group_sync import BACKBONE_ROLES
from minqing.models import Grid, GroupMember, Household, ServiceGroup, Town
from minqing.scope import Scope
from minqing.sizing import Bounds, deviation
from minqing.xlsx import Sheet, workbook_bytes

__all__ = [
    "Proposal",
    "compare_grids",
    "export_xlsx",
    "grid_balance",
    "group_effects",
    "household_at",
    "household_ids",
    "move_households",
    "moves",
    "nearest_households",
    "neighbours",
    "preview_move",
    "propose",
    "publish",
    "require_planner",
    "restore",
    "summary",
    "town_balance",
]

_KX, _KY = 111_320.0, 110_574.0


# --- who may plan ------------------------------------------------------------------------------


def require_planner(scope: Scope, town_ids: Iterable[int] = ()) -> None:
    """Refuse planning (propose, publish, restore, pairings, bounds) to roles that do not plan
    grids, and towns outside a town-level planner's jurisdiction. A system scope may plan."""
    if scope.viewer is not None and scope.role not in PLANS_GRIDS:
        raise AccessDenied("plan.error.not_planner")
    if scope.level != "district" and any(int(t) != scope.id for t in town_ids):
        raise AccessDenied("plan.error.outside")


# --- reading the current layer ------------------------------------------------------------------


def _towns_in(engine: Engine, scope: Scope) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(select(Town.id, Town.name, Town.geom).where(scope.where(Town))
                            .order_by(Town.code)).all()
    return pd.DataFrame(rows, columns=["town_id", "town", "geom"])


def _grids_in(engine: Engine, town_ids: list[int]) -> pd.DataFrame:
    stmt = (select(Grid.id, Grid.code, Grid.name, Grid.town_id, Grid.area_id, Grid.kind,
                   Grid.village, Grid.geom)
            .where(Grid.active.is_(True), Grid.town_id.in_(town_ids)).order_by(Grid.code))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=["grid_id", "code", "name", "town_id", "area_id", "kind",
                                       "village", "geom"])


def _households_in(engine: Engine, town_ids: list[int]) -> pd.DataFrame:
    stmt = (select(Household.id, Household.code, Household.town_id, Household.grid_id,
                   Household.lon, Household.lat)
            .where(Household.town_id.in_(town_ids)).order_by(Household.id))
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(stmt)]
    return pd.DataFrame(rows, columns=["household_id", "code", "town_id", "grid_id", "lon",
                                       "lat"])


def _backbone(engine: Engine, town_ids: list[int]) -> pd.Series:
    stmt = (select(ServiceGroup.grid_id, func.count())
            .join(GroupMember, GroupMember.group_id == ServiceGroup.id)
            .join(Grid, Grid.id == ServiceGroup.grid_id)
            .where(GroupMember.role.in_(BACKBONE_ROLES), Grid.town_id.in_(town_ids))
            .group_by(ServiceGroup.grid_id))
    with engine.connect() as conn:
        return pd.Series(dict(conn.execute(stmt).all()), dtype="int64")


def grid_balance(engine: Engine, *, scope: Scope, bounds: Bounds) -> pd.DataFrame:
    """Every current grid in ``scope`` with its size against the bounds and its backbone.

    Columns: grid_id, code, name, town_id, town, kind, village, households, low, high,
    deviation (households outside the bounds: > 0 above the maximum, < 0 below the minimum),
    backbone (central households / service workers), backbone_low, backbone_high,
    backbone_deviation (< 0 short of members, > 0 more than needed), geom.
    """
    towns = _towns_in(engine, scope)
    ids = towns["town_id"].tolist()
    grids = _grids_in(engine, ids)
    if scope.level in ("area", "grid"):
        with engine.connect() as conn:
            keep = set(conn.scalars(select(Grid.id).where(scope.where(Grid))))
        grids = grids[grids["grid_id"].isin(keep)]
    with engine.connect() as conn:
        counts = dict(conn.execute(select(Household.grid_id, func.count())
                                   .where(Household.town_id.in_(ids))
                                   .group_by(Household.grid_id)).all())
    backbone = _backbone(engine, ids)
    out = grids.merge(towns[["town_id", "town"]], on="town_id")
    out["households"] = out["grid_id"].map(counts).fillna(0).astype(int)
    out["low"] = [bounds.grid(k)[0] for k in out["kind"]]
    out["high"] = [bounds.grid(k)[1] for k in out["kind"]]
    out["deviation"] = [deviation(n, lo, hi) for n, lo, hi in
                        zip(out["households"], out["low"], out["high"], strict=True)]
    out["backbone"] = out["grid_id"].map(backbone).fillna(0).astype(int)
    need = [bounds.backbone_needed(k, n) for k, n in zip(out["kind"], out["households"],
                                                         strict=True)]
    out["backbone_low"] = [lo for lo, _ in need]
    out["backbone_high"] = [hi for _, hi in need]
    out["backbone_deviation"] = [deviation(b, lo, hi) for b, (lo, hi) in
                                 zip(out["backbone"], need, strict=True)]
    cols = ["grid_id", "code", "name", "town_id", "town", "kind", "village", "households", "low",
            "high", "deviation", "backbone", "backbone_low", "backbone_high",
            "backbone_deviation", "geom"]
    return out[cols].reset_index(drop=True)


def town_balance(balance: pd.DataFrame) -> pd.DataFrame:
    """Per town: grids, households, grids out of bounds, groups short of backbone members, the
    least number of households any valid plan must move, and the total deviation."""
    frame = balance.assign(
        out=balance["deviation"] != 0,
        short=balance["backbone_deviation"] < 0,
        excess=balance["deviation"].clip(lower=0),
        shortfall=(-balance["deviation"]).clip(lower=0),
    )
    out = frame.groupby(["town_id", "town"], sort=False).agg(
        grids=("grid_id", "size"), households=("households", "sum"),
        out_of_bounds=("out", "sum"), short_groups=("short", "sum"),
        excess=("excess", "sum"), shortfall=("shortfall", "sum")).reset_index()
    out["lower_bound"] = out[["excess", "shortfall"]].max(axis=1)
    return out.drop(columns=["excess", "shortfall"]).sort_values(
        ["lower_bound", "town_id"], ascending=[False, True]).reset_index(drop=True)


def household_ids(engine: Engine, *, codes: Iterable[str], town_ids: Iterable[int]) -> list[int]:
    """The ids of households given by code (to lock them); an unknown code is refused by name."""
    codes = [c for c in dict.fromkeys(str(c).strip() for c in codes) if c]
    if not codes:
        return []
    with engine.connect() as conn:
        found = dict(conn.execute(select(Household.code, Household.id).where(
            Household.code.in_(codes), Household.town_id.in_(list(town_ids)))).all())
    for code in codes:
        if code not in found:
            raise InputError("plan.error.code", field="locked_households", code=code)
    return [found[c] for c in codes]


# --- proposals ----------------------------------------------------------------------------------


@dataclass
class Proposal:
    """An unpublished plan for ``town_ids``, made from layer version ``base_layer_id``.

    ``households``: household_id, code, town_id, lon, lat, before, after, locked.
    ``grids``: label (the grid id, or a negative label for a grid a split creates), code, name,
    town_id, area_id, kind, village, low, high, parent (the grid a new grid was split from),
    retired, locked, geom_before, geom_after.
    ``notes``: per town, the explanations (splits, merges, why a town could not be balanced).
    """

    base_layer_id: int | None
    town_ids: list[int]
    households: pd.DataFrame
    grids: pd.DataFrame
    notes: dict[int, list[Note]] = field(default_factory=dict)
    unbalanced: list[int] = field(default_factory=list)
    lower_bound: int = 0
    graphs: dict[int, tuple[HouseholdGraph, np.ndarray]] = field(default_factory=dict,
                                                                  repr=False)
    origins: dict[int, tuple[float, float]] = field(default_factory=dict, repr=False)


class _Cancelled(Exception):
    pass


def _to_metres(geom, origin: tuple[float, float]):
    lon0, lat0 = origin
    kx = _KX * np.cos(np.radians(lat0))
    return shapely.transform(geom, lambda c: np.c_[(c[:, 0] - lon0) * kx, (c[:, 1] - lat0) * _KY])


def propose(engine: Engine, *, scope: Scope, town_ids: Iterable[int], bounds: Bounds,
            locked_grids: Iterable[int] = (), locked_households: Iterable[int] = (),
            progress: Callable[[float, str], None] | None = None,
            cancel: Callable[[], bool] | None = None, lang: str = i18n.DEFAULT_LANG) -> Proposal:
    """Rebalance the households of ``town_ids`` (each town on its own) into grids within bounds.

    ``progress(fraction, text)`` is called as towns are done; ``cancel()`` is polled and, when it
    returns True, :class:`geo.rebalance.Cancelled` is raised and nothing is kept.
    """
    town_ids = sorted({int(t) for t in town_ids})
    require_planner(scope, town_ids)
    towns = _towns_in(engine, Scope.district())
    towns = towns[towns["town_id"].isin(town_ids)]
    current = layers.current_layer(engine)
    grids = _grids_in(engine, town_ids)
    homes = _households_in(engine, town_ids)
    locked_grids = {int(g) for g in locked_grids}
    locked_set = {int(h) for h in locked_households}
    homes["locked"] = homes["household_id"].isin(locked_set) | homes["grid_id"].isin(locked_grids)
    homes["before"] = homes["grid_id"]
    homes["after"] = homes["grid_id"]
    report = progress or (lambda _f, _s: None)
    notes: dict[int, list[Note]] = {}
    unbalanced: list[int] = []
    graphs: dict[int, tuple[HouseholdGraph, np.ndarray]] = {}
    origins: dict[int, tuple[float, float]] = {}
    new_rows: list[dict] = []
    retired: set[int] = set()
    next_label = -1
    by_id = grids.set_index("grid_id")
    for i, town in enumerate(towns.itertuples()):
        rows = np.flatnonzero(homes["town_id"].to_numpy() == town.town_id)
        mine = grids[grids["town_id"] == town.town_id]
        if not len(rows) or mine.empty:
            continue
        h = homes.iloc[rows]
        origin = (float(h["lon"].mean()), float(h["lat"].mean()))
        origins[town.town_id] = origin
        x, y = _xy(h["lon"].to_numpy(), h["lat"].to_numpy(), origin)

        def town_progress(f: float, stage: str, i=i, name=town.town) -> None:
            report((i + f) / len(towns), f"{name} · {i18n.t('plan.stage.' + stage, lang)}")

        # one node per household, so that any labelling (before, after, hand-edited) maps 1:1
        graph = household_graph(x, y, np.arange(len(rows)), _to_metres(town.geom, origin))
        plan = rebalance_town(
            x, y, h["grid_id"].to_numpy(), graph=graph,
            kind_of=dict(zip(mine["grid_id"], mine["kind"], strict=True)),
            village_of=dict(zip(mine["grid_id"], mine["village"], strict=True)),
            bounds=bounds.grids, locked_grids=locked_grids & set(mine["grid_id"]),
            shapes={int(g): _to_metres(geom, origin)
                    for g, geom in zip(mine["grid_id"], mine["geom"], strict=True)},
            locked=h["locked"].to_numpy(), town=_to_metres(town.geom, origin),
            progress=town_progress, cancel=cancel, first_label=next_label)
        homes.iloc[rows, homes.columns.get_loc("after")] = plan.labels
        notes[town.town_id] = plan.notes
        if not plan.balanced:
            unbalanced.append(town.town_id)
        for label, parent in sorted(plan.new_grids.items(), reverse=True):
            p = by_id.loc[parent]
            n = len([r for r in new_rows if r["parent"] == parent]) + 2
            new_rows.append({"label": label, "code": f"{p.code}-{n}"[:32],
                                 "name": i18n.t("plan.new_grid_name", lang, name=p["name"], n=n)[:64],
                                 "town_id": p.town_id, "area_id": p.area_id, "kind": p.kind,
                                 "village": p.village, "parent": parent, "geom": None})
        next_label = min([next_label, *[k - 1 for k in plan.new_grids]])
        retired.update(plan.retired)
        graphs[town.town_id] = (graph, rows)
    report(1.0, i18n.t("plan.stage.done", lang))
    table = grids.rename(columns={"grid_id": "label"}).assign(parent=None)
    if new_rows:
        table = pd.concat([table, pd.DataFrame(new_rows)], ignore_index=True)
    table["retired"] = table["label"].isin(retired)
    table["locked"] = table["label"].isin(locked_grids)
    table["low"] = [bounds.grid(k)[0] for k in table["kind"]]
    table["high"] = [bounds.grid(k)[1] for k in table["kind"]]
    table = table.rename(columns={"geom": "geom_before"})
    sizes = table["label"].map(homes.groupby("before").size()).fillna(0)
    lower = int((sizes - table["high"]).clip(lower=0).sum())
    short = int((table["low"] - sizes).clip(lower=0).sum())
    proposal = Proposal(base_layer_id=current.id if current else None, town_ids=town_ids,
                        households=homes, grids=table, notes=notes, unbalanced=unbalanced,
                        lower_bound=int(max(lower, short)), graphs=graphs, origins=origins)
    _redraw(proposal, town_ids)
    return proposal


def _xy(lon: np.ndarray, lat: np.ndarray, origin: tuple[float, float]):
    lon0, lat0 = origin
    return (lon - lon0) * _KX * np.cos(np.radians(lat0)), (lat - lat0) * _KY


def _redraw(p: Proposal, town_ids: Iterable[int]) -> None:
    """Recompute the after-polygons of the given towns' grids."""
    if "geom_after" not in p.grids:
        p.grids["geom_after"] = p.grids["geom_before"]
    for town in town_ids:
        h = p.households[p.households["town_id"] == town]
        g = p.grids[p.grids["town_id"] == town]
        before = {int(k): v for k, v in zip(g["label"], g["geom_before"], strict=True)
                  if v is not None}
        new = redraw(h["lon"].to_numpy(), h["lat"].to_numpy(), h["before"].to_numpy(),
                     h["after"].to_numpy(), before, origin=p.origins.get(town))
        holders = set(h["after"].unique().tolist())
        after = [new.get(int(k), before.get(int(k))) if int(k) in holders else None
                 for k in g["label"]]
        p.grids.loc[g.index, "geom_after"] = pd.Series(_edge_matched(after), index=g.index,
                                                       dtype=object)


SNAP_LIMIT = 1e-7  # degrees, about a centimetre: the most edge matching may move a vertex


def _edge_matched(shapes: list) -> list:
    """The town's polygons with every shared border made exactly identical on both sides.

    A redrawn border is computed (cut, clipped, moved between degrees and metres) while its
    unchanged neighbour keeps its stored vertices, so the two can miss each other by a rounding
    error: a vertex one side has and the other lacks, or a sliver a micrometre wide (the demo's
    most unbalanced town had 33 such edges). GEOS's coverage cleaning snaps them together, moving
    vertices by about 1e-12 degrees. Kept only when the result is a valid coverage, every grid
    keeps its kind of geometry and nothing moved by more than :data:`SNAP_LIMIT` (an imported
    layer with real overlaps is not redrawn here); otherwise the drawing stays as it was.
    """
    drawn = [i for i, shape in enumerate(shapes) if shape is not None]
    if len(drawn) < 2:
        return shapes
    given = np.array([shapes[i] for i in drawn], dtype=object)
    cleaned = shapely.coverage_clean(given)
    if not (shapely.coverage_is_valid(cleaned)
            and all(c.geom_type == g.geom_type and not c.is_empty
                    for c, g in zip(cleaned, given, strict=True))
            and float(shapely.hausdorff_distance(cleaned, given).max()) <= SNAP_LIMIT):
        return shapes
    out = list(shapes)
    for i, shape in zip(drawn, cleaned, strict=True):
        out[i] = shape
    return out


def move_households(p: Proposal, household_ids: Iterable[int], to_label: int) -> Proposal:
    """A copy of ``p`` with ``household_ids`` moved to grid ``to_label`` (a hand edit).

    Raises :class:`InputError` when the grid is not in the proposal, is locked or retired, or a
    household is locked, unknown or in another town. Contiguity and bounds are not refused here:
    :func:`compare_grids` shows them, so the planner sees the warning and decides.
    """
    ids = [int(h) for h in household_ids]
    grid = p.grids[p.grids["label"] == int(to_label)]
    if grid.empty or bool(grid["retired"].iloc[0]):
        raise InputError("plan.error.grid", field="to_grid", grid=to_label)
    if bool(grid["locked"].iloc[0]):
        raise InputError("plan.error.locked_grid", field="to_grid", grid=grid["code"].iloc[0])
    town = int(grid["town_id"].iloc[0])
    homes = p.households.set_index("household_id")
    for hid in ids:
        if hid not in homes.index or int(homes.at[hid, "town_id"]) != town:
            raise InputError("plan.error.household", field="households", household=hid)
        if bool(homes.at[hid, "locked"]):
            raise InputError("plan.error.locked_household", field="households",
                             household=homes.at[hid, "code"])
        source = p.grids[p.grids["label"] == int(homes.at[hid, "after"])]
        if bool(source["locked"].iloc[0]):
            raise InputError("plan.error.locked_grid", field="households",
                             grid=source["code"].iloc[0])
    out = copy.copy(p)
    out.households = p.households.copy()
    out.grids = p.grids.copy()
    out.households.loc[out.households["household_id"].isin(ids), "after"] = int(to_label)
    _redraw(out, [town])
    return out


def neighbours(p: Proposal, label: int) -> list[int]:
    """Grids whose households touch grid ``label``'s in the proposal (the targets of a hand edit)."""
    out: set[int] = set()
    after = p.households["after"].to_numpy()
    for graph, rows in p.graphs.values():
        lab = np.empty(graph.size, dtype=np.int64)
        lab[graph.node] = after[rows]
        if not len(graph.edges):
            continue
        a, b = lab[graph.edges[:, 0]], lab[graph.edges[:, 1]]
        out.update(b[(a == label) & (b != label)].tolist())
        out.update(a[(b == label) & (a != label)].tolist())
    return sorted(out)


def nearest_households(p: Proposal, source: int, target: int) -> pd.DataFrame:
    """Grid ``source``'s households nearest first to grid ``target``'s (household_id, code,
    lon, lat, metres): a block of the first N is the natural hand edit."""
    h = p.households
    mine = h[h["after"] == source]
    theirs = h[h["after"] == target]
    if mine.empty or theirs.empty:
        return mine.assign(metres=np.nan)[["household_id", "code", "lon", "lat", "metres"]]
    origin = p.origins.get(int(mine["town_id"].iloc[0]), (float(mine["lon"].mean()),
                                                          float(mine["lat"].mean())))
    mx, my = _xy(mine["lon"].to_numpy(), mine["lat"].to_numpy(), origin)
    tx, ty = _xy(theirs["lon"].to_numpy(), theirs["lat"].to_numpy(), origin)
    tree = shapely.STRtree(shapely.points(tx, ty))
    _, dist = tree.query_nearest(shapely.points(mx, my), return_distance=True, all_matches=False)
    out = mine[["household_id", "code", "lon", "lat"]].assign(metres=np.round(dist, 1))
    return out.sort_values(["metres", "household_id"]).reset_index(drop=True)


def household_at(p: Proposal, label: int, *, lon: float, lat: float,
                 metres: float = 40.0) -> int | None:
    """The household of grid ``label`` nearest to a point (a click), if within ``metres``."""
    mine = p.households[p.households["after"] == label]
    if mine.empty:
        return None
    origin = (lon, lat)
    x, y = _xy(mine["lon"].to_numpy(), mine["lat"].to_numpy(), origin)
    dist = np.hypot(x, y)
    best = int(np.argmin(dist))
    return int(mine["household_id"].iloc[best]) if dist[best] <= metres else None


def preview_move(p: Proposal, household_ids: Iterable[int], to_label: int) -> pd.DataFrame:
    """What a hand edit would do to every grid it touches, before it is applied: grid, code,
    households now and after, bounds, within bounds, one piece (cheap: no boundaries redrawn)."""
    ids = {int(h) for h in household_ids}
    h = p.households
    moving = h["household_id"].isin(ids)
    touched = sorted({int(to_label), *h.loc[moving, "after"].astype(int).tolist()})
    trial = h["after"].to_numpy().copy()
    trial[moving.to_numpy()] = int(to_label)
    pieces: dict[int, int] = {}
    for graph, rows in p.graphs.values():
        lab = np.empty(graph.size, dtype=np.int64)
        lab[graph.node] = trial[rows]
        if not np.isin(lab, touched).any():
            continue
        for k, v in components(graph, lab).items():
            if k in touched:
                pieces[k] = v
    now = h["after"].value_counts()
    then = pd.Series(trial).value_counts()
    g = p.grids.set_index("label")
    rows_out = []
    for label in touched:
        lo, hi = int(g.at[label, "low"]), int(g.at[label, "high"])
        n_now, n_then = int(now.get(label, 0)), int(then.get(label, 0))
        rows_out.append({"label": label, "code": g.at[label, "code"], "name": g.at[label, "name"],
                         "now": n_now, "after": n_then, "low": lo, "high": hi,
                         "in_bounds": lo <= n_then <= hi or n_then == 0,
                         "contiguous": pieces.get(label, 1) <= 1})
    return pd.DataFrame(rows_out)


# --- comparing ----------------------------------------------------------------------------------


def _contiguous(p: Proposal, column: str) -> dict[int, bool]:
    out: dict[int, bool] = {}
    for graph, rows in p.graphs.values():
        labels = np.empty(graph.size, dtype=np.int64)
        labels[graph.node] = p.households[column].to_numpy()[rows]
        out.update({int(k): v == 1 for k, v in components(graph, labels).items()})
    return out


def compare_grids(p: Proposal) -> pd.DataFrame:
    """One row per grid: households before/after, bounds, deviation before/after, within
    bounds, contiguous, compactness (Polsby-Popper) before/after, and its status."""
    before = p.households.groupby("before").size()
    after = p.households.groupby("after").size()
    contiguous = _contiguous(p, "after")
    g = p.grids
    out = pd.DataFrame({
        "label": g["label"], "code": g["code"], "name": g["name"], "town_id": g["town_id"],
        "kind": g["kind"], "village": g["village"],
        "before": g["label"].map(before).fillna(0).astype(int),
        "after": g["label"].map(after).fillna(0).astype(int),
        "low": g["low"], "high": g["high"],
    })
    out["deviation_before"] = [deviation(n, lo, hi) for n, lo, hi in
                               zip(out["before"], out["low"], out["high"], strict=True)]
    out["deviation_after"] = [deviation(n, lo, hi) for n, lo, hi in
                              zip(out["after"], out["low"], out["high"], strict=True)]
    live = out["after"] > 0
    out["in_bounds"] = (out["deviation_after"] == 0) | ~live
    out["contiguous"] = [contiguous.get(int(k), True) for k in out["label"]]
    out["compactness_before"] = _pp(p, g["geom_before"], g["town_id"])
    out["compactness_after"] = _pp(p, g["geom_after"], g["town_id"])
    moved_in = p.households[p.households["before"] != p.households["after"]]
    touched = set(moved_in["before"]) | set(moved_in["after"])
    out["status"] = np.select(
        [g["parent"].notna().to_numpy(), (~live).to_numpy(), g["label"].isin(touched).to_numpy()],
        ["new", "retired", "changed"], default="unchanged")
    return out.reset_index(drop=True)


def group_effects(engine: Engine, p: Proposal, *, lang: str = i18n.DEFAULT_LANG) -> pd.DataFrame:
    """What publishing ``p`` would do to each grid's service group (the rules of
    :mod:`minqing.group_sync`): label, effect ("dissolved", "created", "changed" or ""), into
    (the heir's / parent's label), members_out, backbone_in and ``text``, the effect in words
    for the compare table."""
    h = p.households
    before, after = set(h["before"].tolist()), set(h["after"].tolist())
    labels = p.grids[["label"]].assign(
        retired=p.grids["label"].isin(before) & ~p.grids["label"].isin(after))
    out = group_sync.preview(engine, households=h[["household_id", "before", "after"]],
                             labels=labels)
    code = dict(zip(p.grids["label"], p.grids["code"], strict=True))

    def text(row) -> str:
        into = code.get(row.into, row.into)
        if row.effect == "dissolved":
            return i18n.t("plan.group.dissolved", lang, n=row.members_out, into=into)
        if row.effect == "created":
            return i18n.t("plan.group.created", lang, into=into)
        if row.effect == "changed":
            return i18n.t("plan.group.changed", lang, inn=row.backbone_in, out=row.members_out)
        return ""

    out["text"] = [text(r) for r in out.itertuples()]
    return out


def _pp(p: Proposal, geoms: pd.Series, towns: pd.Series) -> list[float | None]:
    out: list[float | None] = []
    for geom, town in zip(geoms, towns, strict=True):
        if geom is None or town not in p.origins:
            out.append(None)
            continue
        out.append(round(float(polsby_popper([_to_metres(geom, p.origins[town])])[0]), 3))
    return out


def moves(p: Proposal) -> pd.DataFrame:
    """The households that change grid: household_id, code, town_id, from and to grid codes."""
    code = dict(zip(p.grids["label"], p.grids["code"], strict=True))
    moved = p.households[p.households["before"] != p.households["after"]]
    return pd.DataFrame({
        "household_id": moved["household_id"].to_numpy(), "code": moved["code"].to_numpy(),
        "town_id": moved["town_id"].to_numpy(),
        "from_grid": moved["before"].map(code).to_numpy(),
        "to_grid": moved["after"].map(code).to_numpy(),
    })


@dataclass(frozen=True)
class Summary:
    """The figures of a proposal as a whole."""

    households: int
    moved: int
    lower_bound: int
    core_retention: float
    grids_before: int
    grids_after: int
    in_bounds_before: int
    in_bounds_after: int
    non_contiguous: int
    compactness_before: float
    compactness_after: float
    cut_edges_before: int
    cut_edges_after: int


def summary(p: Proposal, table: pd.DataFrame | None = None) -> Summary:
    table = compare_grids(p) if table is None else table
    h = p.households
    moved = int((h["before"] != h["after"]).sum())
    live_before = table[table["before"] > 0]
    live_after = table[table["after"] > 0]
    cuts_before = cuts_after = 0
    for graph, rows in p.graphs.values():
        for column in ("before", "after"):
            labels = np.empty(graph.size, dtype=np.int64)
            labels[graph.node] = h[column].to_numpy()[rows]
            if column == "before":
                cuts_before += cut_edges(graph, labels)
            else:
                cuts_after += cut_edges(graph, labels)
    return Summary(
        households=len(h), moved=moved, lower_bound=p.lower_bound,
        core_retention=1.0 - moved / len(h) if len(h) else 1.0,
        grids_before=len(live_before), grids_after=len(live_after),
        in_bounds_before=int((live_before["deviation_before"] == 0).sum()),
        in_bounds_after=int((live_after["deviation_after"] == 0).sum()),
        non_contiguous=int((~live_after["contiguous"]).sum()),
        compactness_before=float(live_before["compactness_before"].dropna().mean()),
        compactness_after=float(live_after["compactness_after"].dropna().mean()),
        cut_edges_before=cuts_before, cut_edges_after=cuts_after,
    )


def export_xlsx(p: Proposal, *, lang: str, town_names: dict[int, str],
                groups: pd.DataFrame | None = None) -> bytes:
    """The proposal for the approval meeting: the summary, the grid table (with what happens to
    each service group when ``groups``, from :func:`group_effects`, is given) and the moves."""
    t = lambda key, **kw: i18n.t(key, lang, **kw)  # noqa: E731
    table = compare_grids(p)
    if groups is not None:
        table = table.merge(groups[["label", "text"]].rename(columns={"text": "group"}),
                            on="label", how="left")
    s = summary(p, table)
    towns = "、".join(town_names.get(x, str(x)) for x in p.town_ids)
    filters = [(t("plan.x.towns"), towns), (t("plan.x.base"), str(p.base_layer_id or ""))]
    figures = pd.DataFrame({
        t("plan.x.figure"): [t(f"plan.sum.{k}") for k in (
            "households", "moved", "lower_bound", "core_retention", "grids_before",
            "grids_after", "in_bounds_after", "non_contiguous", "compactness_before",
            "compactness_after")],
        t("plan.x.value"): [s.households, s.moved, s.lower_bound, round(s.core_retention, 4),
                            s.grids_before, s.grids_after, s.in_bounds_after, s.non_contiguous,
                            round(s.compactness_before, 3), round(s.compactness_after, 3)],
    })
    grid_cols = ["code", "name", "village", "before", "after", "low", "high", "deviation_before",
                 "deviation_after", "in_bounds", "contiguous", "compactness_before",
                 "compactness_after", "status", *(["group"] if groups is not None else [])]
    grids = table[grid_cols].copy()
    grids.insert(0, "town", table["town_id"].map(town_names))
    grids["in_bounds"] = grids["in_bounds"].map({True: t("plan.yes"), False: t("plan.no")})
    grids["contiguous"] = grids["contiguous"].map({True: t("plan.yes"), False: t("plan.no")})
    grids["status"] = grids["status"].map(lambda v: t(f"plan.status.{v}"))
    mv = moves(p)
    mv.insert(2, "town", mv["town_id"].map(town_names))
    mv = mv.drop(columns=["town_id"])
    headers = {c: t(f"plan.col.{c}") for c in [*grid_cols, "town", "household_id", "from_grid",
                                               "to_grid"]}
    headers["code"] = t("plan.col.code")
    notes = pd.DataFrame({
        t("plan.col.town"): [town_names.get(town, str(town)) for town, ns in p.notes.items()
                             for _ in ns],
        t("plan.x.note"): [note_text(n, lang, p) for ns in p.notes.values() for n in ns],
    })
    return workbook_bytes([
        Sheet(t("plan.x.summary"), figures, filters=filters),
        Sheet(t("plan.x.grids"), grids, headers=headers, filters=filters),
        Sheet(t("plan.x.moves"), mv, headers={**headers, "code": t("plan.col.household")},
              filters=filters),
        Sheet(t("plan.x.notes"), notes, filters=filters),
    ])


def note_text(note: Note, lang: str, p: Proposal) -> str:
    """A note in words, with grid labels shown as codes."""
    code = dict(zip(p.grids["label"], p.grids["code"], strict=True))

    def show(value):
        if isinstance(value, list):
            return "、".join(str(code.get(v, v)) for v in value)
        return value

    params = {k: (code.get(v, v) if k in ("grid", "new", "into") else show(v))
              for k, v in note.params.items()}
    return i18n.t(note.key, lang, **params)


# --- publishing ---------------------------------------------------------------------------------


def publish(engine: Engine, p: Proposal, *, scope: Scope, reason: str,
            label: str = "") -> layers.PublishResult:
    """Write the proposal as a new grid layer version and make it current (audited, as the
    signed-in viewer of ``scope``; only planning roles, only inside their jurisdiction).

    Refuses (:class:`minqing.errors.ConflictError`) when another version was published since the
    proposal was made, and (:class:`InputError`) when a grid of the proposal is not contiguous.
    """
    require_planner(scope, p.town_ids)
    actor = scope.actor("system")
    table = compare_grids(p)
    broken = table[(table["after"] > 0) & ~table["contiguous"]]
    if not broken.empty:
        raise InputError("plan.error.not_contiguous", field="proposal",
                         grids="、".join(broken["code"].astype(str)))
    live = p.grids[p.grids["label"].isin(set(p.households["after"]))]
    specs = [layers.GridSpec(code=r.code, name=r.name, town_id=int(r.town_id),
                             area_id=int(r.area_id), kind=r.kind, geom=r.geom_after,
                             village=r.village or "",
                             grid_id=int(r.label) if r.label > 0 else None)
             for r in live.itertuples()]
    code = dict(zip(p.grids["label"], p.grids["code"], strict=True))
    assignment = {int(h): code[int(g)] for h, g in
                  zip(p.households["household_id"], p.households["after"], strict=True)}
    if not (reason or "").strip():
        raise InputError("layers.error.reason", field="reason")
    draft = layers.create_layer(engine, grids=specs, assignment=assignment, actor=actor,
                                reason=reason, label=label, source="plan",
                                parent_id=p.base_layer_id, town_ids=p.town_ids)
    try:
        return layers.publish_layer(engine, layer_id=draft.id, actor=actor, reason=reason,
                                    expected_current=p.base_layer_id)
    except Exception:
        layers.drop_layer(engine, layer_id=draft.id)
        raise


def restore(engine: Engine, *, scope: Scope, layer_id: int, reason: str,
            expected_current: int | None = None,
            town_id: int | None = None) -> layers.PublishResult:
    """Make an older layer version current again, audited as the viewer.

    Without ``town_id`` the whole version comes back (planning roles of the whole district
    only, since a version spans every town); with it, only that town's grids and assignment
    come back and every other town stays as it is (:func:`minqing.layers.restore_town`), which
    a planning role may do for a town of its jurisdiction.
    """
    require_planner(scope, [] if town_id is None else [town_id])
    if town_id is None:
        if scope.viewer is not None and scope.level != "district":
            raise AccessDenied("plan.error.outside")
        return layers.restore_layer(engine, layer_id=layer_id, actor=scope.actor("system"),
                                    reason=reason, expected_current=expected_current)
    return layers.restore_town(engine, layer_id=layer_id, town_id=int(town_id),
                               actor=scope.actor("system"), reason=reason,
                               expected_current=expected_current)
