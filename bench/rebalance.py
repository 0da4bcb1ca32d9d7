"""Benchmark: the planner's rebalancing, against spopt's MaxP run on the same units.

    python bench/rebalance.py [--url URL] [--skip-spopt] [--spopt-whole-town]

On the full demo district (built into a temporary SQLite file unless ``--url`` points at one):

- the demo's most unbalanced town (the most households outside their grid's bounds, excess plus
  shortfall) and the whole district are rebalanced with :func:`minqing.planner.propose` (graph,
  plan and new boundaries; ``town_seconds``, ``district_seconds``);
- the district's plan is checked here, independently of the planner's own flags: every grid's
  size against its bounds (``in_bounds_share``), every grid one connected piece of the household
  graph (``contiguous_share``), households moved over the least any valid plan must move
  (``moved_over_lower_bound``; the larger of total excess above the maxima and total shortfall
  below the minima, taken per town since no grid crosses a town and summed; the same formula
  over the district as a whole gives ``moved_over_district_formula``), ``core_retention`` (share of households keeping their grid), mean
  Polsby-Popper of the grid polygons before and after, cut edges of the household graph, grid
  counts; the same figures for the town carry a ``town_`` prefix;
- ``moved_over_flow_optimum``: households moved over the optimum of the same problem with grid
  changes allowed only between neighbouring grids (a min-cost flow with unit costs);
  ``flow_optimum_over_lower_bound`` is that optimum over the lower bound, and
  ``excess_plus_shortfall_over_lower_bound`` what it would be if no grid above its maximum
  bordered one below its minimum. The lower bound max(excess, shortfall) counts a move as fixing
  an excess and a shortfall at once, which only a move from a grid above its maximum straight
  into a grid below its minimum does; the demo picks its out-of-bounds grids at random
  (``minqing.demo.people.grid_sizes``), so they seldom border each other. The planner's
  corridors (``geo.rebalance``: a short grid takes a few households of the grid between to
  reach an over-full one) are how it gets below the neighbour-only optimum (a ratio under 1);
- the baseline, in the same run: spopt's MaxPHeuristic (minimum size = the lower bound of the
  town's grid kind; 3 construction and 1 annealing rounds instead of the defaults' 99 and 10;
  stopped after 10 minutes in any case) with the same Delaunay adjacency, on a part of the
  town: the whole grids nearest its worst grid, about 1,500 households, with ours run on exactly
  the same part (``subset_*``): ``spopt_seconds``, ``spopt_in_bounds_share``,
  ``spopt_moved_over_lower_bound`` (a region counts as "its" grid's when a one-to-one matching
  of regions to grids by shared households pairs them), and the ratios ``speedup_vs_spopt`` and
  ``moves_vs_spopt``. With ``--spopt-whole-town`` MaxP is also run on the whole town
  (``spopt_whole_*``, same budget); it did not finish the 9,138-household town in 10 minutes
  here at load 5-8 (the 1,585-household part took 25 s, 78 s and 356 s in three runs at load
  5-7), which is why the part is the baseline.

spopt and libpysal are a bench extra (``pip install -e '.[bench]'``), never needed by the app.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

from geo.adjacency import components
from minqing import planner
from minqing.scope import Scope
from minqing.sizing import deviation, load_bounds
from minqing.store import get_engine


def _most_unbalanced(engine, bounds) -> int:
    table = planner.grid_balance(engine, scope=Scope.district(), bounds=bounds)
    off = table.assign(off=table["deviation"].abs()).groupby("town_id")["off"].sum()
    return int(off.sort_values(ascending=False, kind="stable").index[0])


def _check(p: planner.Proposal, bounds) -> dict[str, float | int]:
    """The plan's figures, computed here from the assignment and the graph alone."""
    h = p.households
    kind = dict(zip(p.grids["label"], p.grids["kind"], strict=True))
    sizes = Counter(h["after"].tolist())
    in_bounds = [bounds.grid(kind[g])[0] <= n <= bounds.grid(kind[g])[1] for g, n in sizes.items()]
    pieces: dict[int, int] = {}
    cuts_before = cuts_after = 0
    for graph, rows in p.graphs.values():
        for column in ("before", "after"):
            lab = np.empty(graph.size, dtype=np.int64)
            lab[graph.node] = h[column].to_numpy()[rows]
            cut = int((lab[graph.edges[:, 0]] != lab[graph.edges[:, 1]]).sum())
            if column == "after":
                pieces.update(components(graph, lab))
                cuts_after += cut
            else:
                cuts_before += cut
    before = Counter(h["before"].tolist())
    # per town, since no grid crosses a town boundary: the sum over towns of the larger of each
    # town's excess and shortfall (the plain district-wide formula is reported beside it)
    town_of = dict(zip(p.grids["label"], p.grids["town_id"], strict=True))
    excess: Counter[int] = Counter()
    short: Counter[int] = Counter()
    for g, n in before.items():
        lo, hi = bounds.grid(kind[g])
        excess[town_of[g]] += max(0, n - hi)
        short[town_of[g]] += max(0, lo - n)
    lower = sum(max(excess[t], short[t]) for t in set(excess) | set(short))
    both = sum(excess.values()) + sum(short.values())
    plain = max(sum(excess.values()), sum(short.values()))
    moved = int((h["before"] != h["after"]).sum())
    table = planner.compare_grids(p)
    return {
        "in_bounds_share": round(sum(in_bounds) / len(in_bounds), 4),
        "contiguous_share": round(sum(v == 1 for v in pieces.values()) / len(pieces), 4),
        "households": len(h), "moved": moved, "lower_bound": lower,
        "excess_plus_shortfall": both,
        "moved_over_lower_bound": round(moved / lower, 3) if lower else 1.0,
        "moved_over_district_formula": round(moved / plain, 3) if plain else 1.0,
        "core_retention": round(1 - moved / len(h), 4),
        "compactness_before": round(float(table.loc[table["before"] > 0,
                                                    "compactness_before"].mean()), 4),
        "compactness_after": round(float(table.loc[table["after"] > 0,
                                                   "compactness_after"].mean()), 4),
        "cut_edges_before": cuts_before, "cut_edges_after": cuts_after,
        "grids_before": len(before), "grids_after": len(sizes),
        "flow_optimum": _flow_optimum(p, bounds),
    }


def _flow_optimum(p: planner.Proposal, bounds) -> int:
    """The fewest moves when households may only change to a neighbouring grid (unit costs)."""
    h = p.households
    kind = dict(zip(p.grids["label"], p.grids["kind"], strict=True))
    total = 0
    for graph, rows in p.graphs.values():
        lab = np.empty(graph.size, dtype=np.int64)
        lab[graph.node] = h["before"].to_numpy()[rows]
        a, b = lab[graph.edges[:, 0]], lab[graph.edges[:, 1]]
        pairs = {(int(x), int(y)) for x, y in zip(a[a != b], b[a != b], strict=True)}
        G = nx.DiGraph()
        supply = 0
        for g, n in Counter(lab[graph.node].tolist()).items():
            lo, hi = bounds.grid(kind[g])
            give_must, take_must = max(0, n - hi), max(0, lo - n)
            give_may = max(0, n - lo) - give_must
            take_may = max(0, hi - n) - take_must
            if give_must:
                G.add_edge("S", ("give", g), capacity=give_must, weight=-10**6)
                G.add_edge(("give", g), g, weight=0)
            if give_may:
                G.add_edge("S", g, capacity=give_may, weight=0)
            if take_must:
                G.add_edge(g, ("take", g), capacity=take_must, weight=-10**6)
                G.add_edge(("take", g), "T", weight=0)
            if take_may:
                G.add_edge(g, "T", capacity=take_may, weight=0)
            supply += give_must + give_may
        for x, y in pairs:
            G.add_edge(x, y, weight=1)
            G.add_edge(y, x, weight=1)
        G.add_edge("S", "T", weight=0)
        G.add_node("S", demand=-supply)
        G.add_node("T", demand=supply)
        flow = nx.min_cost_flow(G)
        total += sum(f for u, out in flow.items() if not isinstance(u, (str, tuple))
                     for v, f in out.items() if not isinstance(v, (str, tuple)))
    return total


CONSTRUCTION = 3  # MaxP's construction rounds (spopt's default is 99)
ANNEALING = 1  # and simulated-annealing rounds (default 10): the baseline's cheapest honest run
SPOPT_BUDGET = 600  # seconds; a baseline still running then is reported as not finished


def _spopt_in_child(sub, p, bounds, queue) -> None:
    queue.put(_spopt(sub, p, bounds))


def _spopt_budgeted(sub: pd.DataFrame, p: planner.Proposal, bounds) -> dict[str, float | None]:
    """MaxP in a child process, stopped after :data:`SPOPT_BUDGET` seconds."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_spopt_in_child, args=(sub, p, bounds, queue))
    child.start()
    child.join(SPOPT_BUDGET)
    if child.is_alive():
        child.terminate()
        child.join()
        return {"spopt_seconds": None, "spopt_in_bounds_share": None, "spopt_moved": None,
                "spopt_regions": None, "spopt_moved_over_lower_bound": None,
                "spopt_note": f"did not finish in {SPOPT_BUDGET} s"}
    return queue.get()


SUBSET = 1500  # households in the part of the town both methods are run on for the baseline


def _subset(p: planner.Proposal, town: int, bounds) -> pd.DataFrame:
    """Whole grids of ``town`` nearest to its grid furthest outside its bounds, until about
    :data:`SUBSET` households: a part of the town small enough for MaxP to finish."""
    h = p.households[p.households["town_id"] == town]
    grids = p.grids[p.grids["town_id"] == town].set_index("label")
    sizes = h.groupby("before").size()
    dev = {g: abs(deviation(int(n), *bounds.grid(grids.at[g, "kind"])))
           for g, n in sizes.items()}
    worst = max(dev, key=lambda g: (dev[g], -g))
    centre = h.groupby("before")[["lon", "lat"]].mean()
    d = ((centre - centre.loc[worst]) ** 2).sum(axis=1).sort_values(kind="stable")
    chosen, total = [], 0
    for g in d.index:
        chosen.append(g)
        total += int(sizes[g])
        if total >= SUBSET:
            break
    return h[h["before"].isin(chosen)].reset_index(drop=True)


def _ours_on(sub: pd.DataFrame, p: planner.Proposal, bounds) -> dict[str, float]:
    from geo.adjacency import household_graph, local_metres
    from geo.rebalance import rebalance_town

    kinds = p.grids.set_index("label")
    started = time.perf_counter()
    x, y = local_metres(sub["lon"].to_numpy(), sub["lat"].to_numpy())
    grid = sub["before"].to_numpy()
    ids = sorted(set(grid.tolist()))
    plan = rebalance_town(x, y, grid, kind_of={g: kinds.at[g, "kind"] for g in ids},
                          village_of={g: kinds.at[g, "village"] for g in ids},
                          bounds=bounds.grids, graph=household_graph(x, y, np.arange(len(x))))
    seconds = time.perf_counter() - started
    sizes = Counter(plan.labels.tolist())
    in_bounds = sum(bounds.grid(kinds.at[g, "kind"])[0] <= n <= bounds.grid(kinds.at[g, "kind"])[1]
                    for g, n in sizes.items() if g in kinds.index) / len(sizes)
    return {"subset_seconds": round(seconds, 2), "subset_in_bounds_share": round(in_bounds, 4),
            "subset_moved": plan.moved, "subset_lower_bound": plan.lower_bound,
            "subset_moved_over_lower_bound": round(plan.moved / plan.lower_bound, 3)
            if plan.lower_bound else 1.0}


def _spopt(sub: pd.DataFrame, p: planner.Proposal, bounds) -> dict[str, float]:
    import geopandas as gpd
    from libpysal.weights import W
    from scipy.optimize import linear_sum_assignment
    from spopt.region import MaxPHeuristic

    from geo.adjacency import household_graph, local_metres

    x, y = local_metres(sub["lon"].to_numpy(), sub["lat"].to_numpy())
    graph = household_graph(x, y, np.arange(len(x)))  # the same adjacency as ours
    h = sub
    kinds = p.grids.set_index("label")["kind"]
    lo, hi = bounds.grid(kinds.loc[int(h["before"].iloc[0])])
    order = np.argsort(graph.node)  # households -> nodes are one-to-one here
    neighbours = {i: [int(j) for j in order[graph.nbrs[int(graph.node[i])]]]
                  for i in range(len(h))}
    w = W(neighbours, silence_warnings=True)
    frame = gpd.GeoDataFrame(
        {"count": np.ones(len(h)), "x": graph.x[graph.node], "y": graph.y[graph.node]},
        geometry=gpd.points_from_xy(h["lon"], h["lat"]), crs="EPSG:4326")
    started = time.perf_counter()
    model = MaxPHeuristic(frame, w, ["x", "y"], "count", lo, top_n=2,
                          max_iterations_construction=CONSTRUCTION, max_iterations_sa=ANNEALING)
    model.solve()
    seconds = time.perf_counter() - started
    regions = np.asarray(model.labels_)
    sizes = Counter(regions.tolist())
    in_bounds = sum(lo <= n <= hi for n in sizes.values()) / len(sizes)
    # match regions to grids one-to-one by shared households; a household keeps "its grid" when
    # its region is matched to its old grid
    grids = sorted(set(h["before"].tolist()))
    rid = sorted(sizes)
    overlap = pd.crosstab(regions, h["before"].to_numpy()).reindex(index=rid, columns=grids,
                                                                   fill_value=0)
    r, c = linear_sum_assignment(-overlap.to_numpy())
    kept = int(overlap.to_numpy()[r, c].sum())
    before = Counter(h["before"].tolist())
    lower = max(sum(max(0, n - hi) for n in before.values()),
                sum(max(0, lo - n) for n in before.values()))
    return {"spopt_seconds": round(seconds, 2), "spopt_in_bounds_share": round(in_bounds, 4),
            "spopt_moved": len(h) - kept, "spopt_regions": len(sizes),
            "spopt_moved_over_lower_bound": round((len(h) - kept) / lower, 3)
            if lower else None}


def _say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def measure(url: str, with_spopt: bool,
            whole_town: bool = False) -> dict[str, float | int | str]:
    engine = get_engine(url)
    bounds = load_bounds(engine)
    town = _most_unbalanced(engine, bounds)
    _say(f"town {town}")
    started = time.perf_counter()
    town_plan = planner.propose(engine, scope=Scope.district(), town_ids=[town], bounds=bounds)
    town_seconds = time.perf_counter() - started
    towns = planner.town_balance(planner.grid_balance(engine, scope=Scope.district(),
                                                      bounds=bounds))["town_id"].tolist()
    _say(f"town done in {town_seconds:.1f} s; district")
    started = time.perf_counter()
    district_plan = planner.propose(engine, scope=Scope.district(), town_ids=towns,
                                    bounds=bounds)
    district_seconds = time.perf_counter() - started
    _say(f"district done in {district_seconds:.1f} s; checking")
    district = _check(district_plan, bounds)
    mine = _check(town_plan, bounds)
    result: dict[str, float | int | str] = {
        "town_id": town, "town_households": mine["households"],
        "town_seconds": round(town_seconds, 2), "district_seconds": round(district_seconds, 2),
        **{k: v for k, v in district.items()
           if k not in ("households", "flow_optimum", "excess_plus_shortfall")},
        "moved_over_flow_optimum": round(district["moved"] / district["flow_optimum"], 3),
        "flow_optimum_over_lower_bound": round(district["flow_optimum"]
                                               / district["lower_bound"], 3),
        "excess_plus_shortfall_over_lower_bound": round(district["excess_plus_shortfall"]
                                                        / district["lower_bound"], 3),
        "unbalanced_towns": len(district_plan.unbalanced),
        **{f"town_{k}": v for k, v in mine.items()
           if k not in ("households", "moved_over_district_formula")},
        "town_moved_over_flow_optimum": round(mine["moved"] / mine["flow_optimum"], 3),
    }
    if with_spopt:
        sub = _subset(town_plan, town, bounds)
        ours = _ours_on(sub, town_plan, bounds)
        result.update({"subset_households": len(sub), **ours})
        _say(f"spopt MaxP on {len(sub)} households of the town (ours: {ours['subset_seconds']} s)")
        base = _spopt_budgeted(sub, town_plan, bounds)
        result.update(base)
        if base["spopt_seconds"] is not None:
            result["speedup_vs_spopt"] = round(base["spopt_seconds"] / ours["subset_seconds"], 1)
            result["moves_vs_spopt"] = round(ours["subset_moved"] / base["spopt_moved"], 3)
        if whole_town:
            homes = town_plan.households
            everyone = homes[homes["town_id"] == town].reset_index(drop=True)
            _say(f"spopt MaxP on the whole town ({len(everyone)} households)")
            whole = _spopt_budgeted(everyone, town_plan, bounds)
            result.update({k.replace("spopt_", "spopt_whole_"): v for k, v in whole.items()})
    result["load_average_1m"] = round(os.getloadavg()[0], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a database holding the full demo (default: build one)")
    parser.add_argument("--skip-spopt", action="store_true", help="no baseline (no bench extra)")
    parser.add_argument("--spopt-whole-town", action="store_true",
                        help=f"also run MaxP on the whole town (up to {SPOPT_BUDGET} s more)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if url is None:
            from minqing.demo import build

            url = f"sqlite:///{Path(tmp) / 'full.db'}"
            build(url, scale="full", seed=2026, progress=True)
        result = measure(url, with_spopt=not args.skip_spopt, whole_town=args.spopt_whole_town)
        get_engine(url).dispose()
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
