"""Rebalance households between grids so that every grid is within its size bounds, with as few
households changing grid as possible.

The method, per town (no grid ever crosses a town boundary):

1. **Adjacency.** Households are nodes of a Delaunay graph clipped to the town
   (:mod:`geo.adjacency`); a grid must stay one connected piece of it.
2. **Repair.** A grid already in several pieces keeps its largest; the other pieces join the
   neighbouring grid they share most edges with.
3. **Grid count.** Only when the town's households cannot fit the bounds with the grids it has
   (more than the sum of maxima, fewer than the sum of minima) is the largest grid split in two
   (grown from its two farthest households) or the smallest merged into a neighbour; each split
   or merge is explained in the plan's notes.
4. **Corridors.** A grid below its minimum that does not touch a grid above its maximum but
   comes within a few households of it (at most 8, through grids within their bounds and, for a
   rural grid, of its own village) takes those households when that saves at least as many
   moves as it costs: the excess can then move straight in instead of passing through the grid
   between, which costs a move for the excess and another for the shortfall. The grids crossed
   stay within their bounds and in one piece; the plan's notes name each corridor. On the demo
   district this took the moves from 1.393 to 1.300 times the lower bound (bench/rebalance.py).
5. **Flow.** How many households go from which grid to which neighbouring grid is a min-cost
   flow on the grid adjacency graph (networkx network simplex): every grid's excess above its
   maximum must leave and every shortfall below its minimum must arrive (large negative costs
   force these), grids inside their bounds pass households on or absorb them within their slack,
   and each household moved costs 1 (3 across a village boundary, so rural grids stay inside
   their village where the bounds allow; 3 between grids whose polygons do not border each
   other, whose households touch only across a corner or an empty stretch). The total flow is
   then the least number of moves from one grid to a neighbouring one; it exceeds the lower
   bound max(total excess, total shortfall) wherever a grid above its maximum does not border
   one below its minimum, since then the excess and the shortfall each cost a move of their own
   (bench/rebalance.py reports both).
6. **Realise.** Each grid g cuts off what it sends with straight lines: its households go to
   the cells of a power diagram whose sites are g's centre and, for each receiver h, the middle
   of the border their polygons share (or h's centre without polygons), with the amounts fixed
   (the least total squared distance to the new site: a sort for one receiver, a small
   transportation problem solved by HiGHS for several). The new borders are then straight and
   :mod:`geo.regrid` draws them as such. Where a cut would leave a grid in two pieces, that
   transfer moves boundary households of g that touch h one by one instead, preferring those
   furthest along the line from g's centre towards h's and never one whose removal would cut g
   in two. Rounds repeat until every grid is within bounds.

When a town cannot be balanced (locked grids, a town too small for one grid, grids whose
neighbours are all locked), its plan is left unchanged and the notes say why.

This is our own code rather than spopt's regionalisation: MaxP and SKATER rebuild regions from
scratch (no notion of "the current plan" or of a maximum), moving several times the households
that need to move; see bench/rebalance.py, which runs MaxP on the same units as the baseline.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import shapely
from scipy import sparse
from scipy.optimize import linprog

from geo.adjacency import HouseholdGraph, household_graph
from geo.regrid import cut_sites

__all__ = ["Cancelled", "Note", "TownPlan", "lower_bound", "rebalance_town"]

_FORCE = 1_000_000  # the cost that forces an excess out / a shortfall in
_COST = 10  # one household moved to a neighbouring grid
_COST_VILLAGE = 30  # ... to a grid of another village
_COST_APART = 20  # ... to a grid whose polygon does not border its own (needs a corridor)
_ROUNDS = 8
_CORRIDOR = 8  # the most households a corridor may take from the grids it crosses
_CORRIDOR_GAIN = 1  # ... and the moves it must save per household it takes
_PATHS = 8  # shortest corridors tried per pair of grids

Progress = Callable[[float, str], None]


class Cancelled(Exception):
    """The caller asked to stop; nothing of the unfinished plan is kept."""


@dataclass(frozen=True)
class Note:
    """An explanation in the plan, as a catalogue key and its parameters (grid ids etc.)."""

    key: str
    params: dict = field(default_factory=dict)


@dataclass
class TownPlan:
    """The proposal for one town.

    ``labels`` is the new grid of every household (input order): an existing grid id, or a
    negative label for a grid created by a split (``new_grids`` maps it to the grid it was split
    from). ``retired`` lists grids merged away. ``balanced`` is False when the town could not be
    balanced; then ``labels`` equals the input and ``notes`` explain why.
    """

    labels: np.ndarray
    new_grids: dict[int, int]
    retired: list[int]
    notes: list[Note]
    balanced: bool
    lower_bound: int
    moved: int


def lower_bound(counts: Mapping[int, int], low: Mapping[int, int],
                high: Mapping[int, int]) -> int:
    """The least number of households any valid plan must move: the larger of the total excess
    above the maxima and the total shortfall below the minima."""
    excess = sum(max(0, c - high[g]) for g, c in counts.items())
    short = sum(max(0, low[g] - c) for g, c in counts.items())
    return max(excess, short)


class _State:
    """The working plan of one town: node labels, grid members and counts."""

    def __init__(self, graph: HouseholdGraph, grid: np.ndarray, locked: np.ndarray,
                 kind_of: Mapping[int, str], village_of: Mapping[int, str],
                 bounds: Mapping[str, tuple[int, int]], locked_grids: set[int]) -> None:
        self.graph = graph
        n = graph.size
        lab = np.empty(n, dtype=np.int64)
        lab[graph.node] = grid
        node_locked = np.zeros(n, dtype=bool)
        np.logical_or.at(node_locked, graph.node, locked)
        node_locked |= np.isin(lab, list(locked_grids))
        self.lab: list[int] = lab.tolist()
        self.locked: list[bool] = node_locked.tolist()
        self.weight: list[int] = graph.weight.tolist()
        self.nbrs: list[list[int]] = [a.tolist() for a in graph.nbrs]
        self.x = graph.x
        self.y = graph.y
        self.kind = dict(kind_of)
        self.village = dict(village_of)
        # a node's village is the village of the grid it starts in
        self.node_village = [self.village.get(g, "") for g in self.lab]
        self.bounds = bounds
        self.locked_grids = set(locked_grids)
        self.members: dict[int, set[int]] = defaultdict(set)
        self.count: Counter[int] = Counter()
        for v, g in enumerate(self.lab):
            self.members[g].add(v)
            self.count[g] += self.weight[v]
        self.site = {g: self.centre(g) for g in self.members}
        self.shapes: dict[int, object] = {}
        self._borders: dict[tuple[int, int], bool] = {}
        self.next_label = -1
        self.new_grids: dict[int, int] = {}
        self.retired: list[int] = []
        self.notes: list[Note] = []

    def lo(self, g: int) -> int:
        return self.bounds[self.kind[g]][0]

    def hi(self, g: int) -> int:
        return self.bounds[self.kind[g]][1]

    def grids(self) -> list[int]:
        return sorted(g for g, m in self.members.items() if m)

    def free(self) -> list[int]:
        return [g for g in self.grids() if g not in self.locked_grids]

    def move(self, v: int, h: int) -> None:
        g = self.lab[v]
        self.members[g].discard(v)
        self.members[h].add(v)
        self.count[g] -= self.weight[v]
        self.count[h] += self.weight[v]
        self.lab[v] = h

    def out_of_bounds(self, g: int) -> bool:
        return not self.lo(g) <= self.count[g] <= self.hi(g)

    def borders(self, g: int, h: int) -> bool:
        """Do the polygons of ``g`` and ``h`` share a border (True when either has none)?"""
        key = (min(g, h), max(g, h))
        if key not in self._borders:
            a, b = self.shapes.get(g), self.shapes.get(h)
            self._borders[key] = (a is None or b is None
                                  or shapely.intersection(a.boundary, b.boundary).length > 1.0)
        return self._borders[key]

    def join(self, g: int, h: int) -> None:
        """Count ``g`` and ``h`` as bordering from now on (a corridor has joined them)."""
        self._borders[(min(g, h), max(g, h))] = True

    # --- contiguity ---

    def pieces(self, g: int) -> list[set[int]]:
        todo = set(self.members[g])
        out = []
        while todo:
            start = todo.pop()
            piece = {start}
            stack = [start]
            while stack:
                v = stack.pop()
                for u in self.nbrs[v]:
                    if u in todo:
                        todo.discard(u)
                        piece.add(u)
                        stack.append(u)
            out.append(piece)
        return out

    def keeps_connected(self, v: int) -> bool:
        """Would grid ``lab[v]`` stay one piece without node ``v`` (and not become empty)?"""
        g = self.lab[v]
        if len(self.members[g]) <= 1:
            return False
        lab = self.lab
        ring = [u for u in self.nbrs[v] if lab[u] == g]
        if len(ring) <= 1:
            return True
        want = set(ring[1:])
        seen = {v, ring[0]}
        stack = [ring[0]]
        while stack:
            w = stack.pop()
            for u in self.nbrs[w]:
                if u not in seen and lab[u] == g:
                    want.discard(u)
                    if not want:
                        return True
                    seen.add(u)
                    stack.append(u)
        return False

    def centre(self, g: int) -> tuple[float, float]:
        idx = np.fromiter(self.members[g], dtype=np.int64)
        w = self.graph.weight[idx]
        return float(np.average(self.x[idx], weights=w)), float(np.average(self.y[idx], weights=w))


def _repair_pieces(st: _State) -> None:
    """A grid in several pieces keeps its largest (or locked) piece; the rest join neighbours."""
    for g in st.grids():
        pieces = st.pieces(g)
        if len(pieces) <= 1:
            continue
        pieces.sort(key=lambda p: (any(st.locked[v] for v in p), sum(st.weight[v] for v in p)),
                    reverse=True)
        moved = 0
        for piece in pieces[1:]:
            if any(st.locked[v] for v in piece):
                continue
            touch = Counter(st.lab[u] for v in piece for u in st.nbrs[v] if st.lab[u] != g)
            if not touch:
                continue
            h = touch.most_common(1)[0][0]
            for v in piece:
                st.move(v, h)
                moved += st.weight[v]
        if moved:
            st.notes.append(Note("plan.note.pieces", {"grid": g, "pieces": len(pieces),
                                                      "households": moved}))


def _split(st: _State, g: int) -> int:
    """Split grid ``g`` in two connected halves grown from its two farthest households."""
    nodes = np.fromiter(st.members[g], dtype=np.int64)
    cx, cy = st.centre(g)
    a = int(nodes[np.argmax((st.x[nodes] - cx) ** 2 + (st.y[nodes] - cy) ** 2)])
    b = int(nodes[np.argmax((st.x[nodes] - st.x[a]) ** 2 + (st.y[nodes] - st.y[a]) ** 2)])
    new = st.next_label
    st.next_label -= 1
    st.kind[new] = st.kind[g]
    st.village[new] = st.village[g]
    st.new_grids[new] = g
    side = {a: 0, b: 1}
    size = [st.weight[a], st.weight[b]]
    heaps: list[list[tuple[float, int]]] = [[], []]
    seeds = (a, b)

    def push(s: int, v: int) -> None:
        for u in st.nbrs[v]:
            if st.lab[u] == g and u not in side:
                d = (st.x[u] - st.x[seeds[s]]) ** 2 + (st.y[u] - st.y[seeds[s]]) ** 2
                heapq.heappush(heaps[s], (d, u))

    push(0, a)
    push(1, b)
    while heaps[0] or heaps[1]:
        s = 0 if (size[0] <= size[1] and heaps[0]) or not heaps[1] else 1
        if s == 1 and st.locked[heaps[1][0][1]]:  # locked households stay in the old grid
            heapq.heappop(heaps[1])
            continue
        _, v = heapq.heappop(heaps[s])
        if v in side:
            continue
        side[v] = s
        size[s] += st.weight[v]
        push(s, v)
    for v, s in side.items():
        if s == 1:
            st.move(v, new)
    st.site[new] = st.centre(new)
    st.site[g] = st.centre(g)
    return new


def _merge(st: _State, g: int) -> int | None:
    """Merge grid ``g`` into its smallest free neighbour (same village first)."""
    touch = {st.lab[u] for v in st.members[g] for u in st.nbrs[v] if st.lab[u] != g}
    touch -= st.locked_grids
    if not touch:
        return None
    h = min(touch, key=lambda k: (st.village.get(k) != st.village.get(g), st.count[k], k))
    for v in list(st.members[g]):
        st.move(v, h)
    st.retired.append(g)
    return h


def _fix_count(st: _State) -> Note | None:
    """Split or merge until the free grids' bounds can hold their households; or say why not."""
    while True:
        free = st.free()
        if not free:
            return Note("plan.note.all_locked")
        total = sum(st.count[g] for g in free)
        lo = sum(st.lo(g) for g in free)
        hi = sum(st.hi(g) for g in free)
        if total > hi:
            g = max(free, key=lambda k: (st.count[k] - st.hi(k), k))
            if len(st.members[g]) < 2 or all(st.locked[v] for v in st.members[g]):
                return Note("plan.note.cannot_split")
            new = _split(st, g)
            st.notes.append(Note("plan.note.split", {"grid": g, "new": new, "households": total,
                                                     "grids": len(free), "high": hi}))
        elif total < lo:
            if len(free) == 1:
                return Note("plan.note.too_few", {"households": total, "low": st.lo(free[0])})
            movable = [g for g in free if not any(st.locked[v] for v in st.members[g])]
            for g in sorted(movable, key=lambda k: (st.count[k], k)):
                h = _merge(st, g)
                if h is not None:
                    st.notes.append(Note("plan.note.merge", {"grid": g, "into": h,
                                                             "households": total,
                                                             "grids": len(free), "low": lo}))
                    break
            else:
                return Note("plan.note.cannot_merge")
        else:
            return None


def _grid_edges(st: _State) -> dict[tuple[int, int], None]:
    """Every ordered pair of grids whose households share an edge of the graph, in the order
    the graph's edges meet them (the flow is built in this order, which settles its ties)."""
    lab = np.asarray(st.lab)
    e = st.graph.edges
    if not len(e):
        return {}
    a, b = lab[e[:, 0]], lab[e[:, 1]]
    cross = a != b
    return dict.fromkeys(pair for g, h in zip(a[cross].tolist(), b[cross].tolist(), strict=True)
                         for pair in ((g, h), (h, g)))


def _corridor_paths(st: _State, u_grid: int, over: Mapping[int, int],
                    touching: Mapping[tuple[int, int], None]) -> dict[int, list[list[int]]]:
    """The shortest chains of households of grids within their bounds that would join
    ``u_grid`` to each grid above its maximum it does not touch (at most :data:`_CORRIDOR`
    long; a few of each, since one may cut the grid it crosses where another does not)."""
    lab, nbrs = st.lab, st.nbrs
    rural = st.kind[u_grid] == "rural"
    came: dict[int, int] = dict.fromkeys(st.members[u_grid], -1)
    frontier = list(came)
    found: dict[int, list[list[int]]] = {}
    found_at: dict[int, int] = {}
    for depth in range(_CORRIDOR + 1):
        step = []
        for v in frontier:
            for w in nbrs[v]:
                if w in came:
                    continue
                g = lab[w]
                if g in over:
                    if ((u_grid, g) not in touching and came[v] != -1
                            and len(found.setdefault(g, [])) < _PATHS
                            and found_at.setdefault(g, depth) == depth):
                        path, x = [], v
                        while x != -1 and lab[x] != u_grid:
                            path.append(x)
                            x = came[x]
                        found[g].append(path)
                    continue
                if (st.locked[w] or g in st.locked_grids or st.out_of_bounds(g)
                        or (rural and st.village.get(g) != st.village.get(u_grid))):
                    continue
                came[w] = v
                step.append(w)
        frontier = step
    return {g: paths for g, paths in found.items() if paths}


def _corridors(st: _State) -> None:
    """Join a grid below its minimum to a grid above its maximum it does not touch through a few
    households of the grid between them, when that saves moves.

    Without contact, the excess and the shortfall each cost a move of their own (the excess goes
    to one neighbour, the shortfall comes from another); through a corridor of c households the
    short grid takes the excess directly, for c moves more. A corridor is taken only when the
    moves it saves, net of its own c, are at least c (:data:`_CORRIDOR_GAIN`), when it leaves
    each grid it crosses within its bounds and in one piece, and, for a rural grid, inside its
    village. Offers are taken best first, each pair of grids once, with what is left of each
    grid's excess and shortfall; the flow then treats the two grids as neighbours.
    """
    over = {g: st.count[g] - st.hi(g) for g in st.free() if st.count[g] > st.hi(g)}
    under = {g: st.lo(g) - st.count[g] for g in st.free() if st.count[g] < st.lo(g)}
    if not over or not under:
        return
    touching = _grid_edges(st)
    offers = []
    for u_grid in under:
        for o_grid, paths in _corridor_paths(st, u_grid, over, touching).items():
            if st.kind[o_grid] == "rural" and st.village.get(o_grid) != st.village.get(u_grid):
                continue
            for i, path in enumerate(paths):
                length = sum(st.weight[v] for v in path)
                gain = min(over[o_grid], under[u_grid]) - length
                if gain >= length * _CORRIDOR_GAIN:
                    offers.append((-gain, length, u_grid, o_grid, i, path))
    joined: set[tuple[int, int]] = set()
    for *_rank, u_grid, o_grid, _i, path in sorted(offers, key=lambda o: o[:5]):
        length = sum(st.weight[v] for v in path)
        if ((u_grid, o_grid) in joined
                or min(over[o_grid], under[u_grid]) - length < length * _CORRIDOR_GAIN
                or not _corridor_fits(st, path, u_grid)):
            continue
        joined.add((u_grid, o_grid))
        for v in reversed(path):  # from the short grid's side, so it stays one piece
            st.move(v, u_grid)
        sent = min(over[o_grid], under[u_grid] - length)
        over[o_grid] -= sent
        under[u_grid] -= length + sent
        st.join(u_grid, o_grid)
        st.notes.append(Note("plan.note.corridor", {"grid": u_grid, "into": o_grid,
                                                    "households": length}))


def _corridor_fits(st: _State, path: list[int], u_grid: int) -> bool:
    """Is the path still free, and would every grid it crosses stay within its bounds and in one
    piece without it?"""
    crossed: dict[int, list[int]] = defaultdict(list)
    for v in path:
        if st.lab[v] == u_grid:
            return False
        crossed[st.lab[v]].append(v)
    for g, nodes in crossed.items():
        if st.count[g] - sum(st.weight[v] for v in nodes) < st.lo(g):
            return False
        rest = st.members[g] - set(nodes)
        if not rest:
            return False
        start = next(iter(rest))
        seen, stack = {start}, [start]
        while stack:
            for w in st.nbrs[stack.pop()]:
                if w in rest and w not in seen:
                    seen.add(w)
                    stack.append(w)
        if len(seen) != len(rest):
            return False
    return True


def _flow(st: _State) -> tuple[dict[tuple[int, int], int], list[int]]:
    """Households to send between neighbouring free grids; and the grids it cannot fix."""
    free = set(st.free())
    G = nx.DiGraph()
    supply = 0
    for g in free:
        c, lo, hi = st.count[g], st.lo(g), st.hi(g)
        give_must, take_must = max(0, c - hi), max(0, lo - c)
        give_may = max(0, c - lo) - give_must
        take_may = max(0, hi - c) - take_must
        if give_must:
            G.add_edge("S", ("give", g), capacity=give_must, weight=-_FORCE)
            G.add_edge(("give", g), g, weight=0)
        if give_may:
            G.add_edge("S", g, capacity=give_may, weight=0)
        if take_must:
            G.add_edge(g, ("take", g), capacity=take_must, weight=-_FORCE)
            G.add_edge(("take", g), "T", weight=0)
        if take_may:
            G.add_edge(g, "T", capacity=take_may, weight=0)
        supply += give_must + give_may
    for g, h in _grid_edges(st):
        if g in free and h in free:
            cross = st.village.get(g) != st.village.get(h) and st.kind[g] == "rural"
            cost = _COST_VILLAGE if cross else _COST
            if not st.borders(g, h):
                cost += _COST_APART
            G.add_edge(g, h, weight=cost)
    G.add_edge("S", "T", weight=0)
    G.add_node("S", demand=-supply)
    G.add_node("T", demand=supply)
    flow = nx.min_cost_flow(G)
    sends = {(g, h): f for g, out in flow.items() if g in free
             for h, f in out.items() if h in free and f > 0}

    def unmet(a, b) -> bool:  # a forced edge not saturated: an excess or shortfall left over
        return G.has_edge(a, b) and flow[a].get(b, 0) < G[a][b]["capacity"]

    stuck = [g for g in free if unmet("S", ("give", g)) or unmet(g, ("take", g))]
    return sends, sorted(stuck)


def _transfer(st: _State, g: int, h: int, amount: int, cancel: Callable[[], bool] | None) -> int:
    """Move about ``amount`` households of ``g`` that touch ``h`` into ``h``; returns how many."""
    lab, nbrs, weight, locked = st.lab, st.nbrs, st.weight, st.locked
    cand = {v for v in st.members[g] if not locked[v] and any(lab[u] == h for u in nbrs[v])}
    hx, hy = st.centre(h)
    gx, gy = st.centre(g)
    ax, ay = hx - gx, hy - gy
    x, y = st.x, st.y
    moved = 0
    while moved < amount and cand:
        if cancel is not None and cancel():
            raise Cancelled

        def score(v: int) -> float:
            # furthest along the line from g's centre towards h's first: g gives a slice on
            # h's side and the new border runs roughly straight across that line
            return -((x[v] - gx) * ax + (y[v] - gy) * ay)

        chosen = None
        for v in sorted(cand, key=score):
            w = weight[v]
            if moved + w > amount and (st.count[h] + w > st.hi(h) or st.count[g] - w < st.lo(g)):
                continue
            if st.keeps_connected(v):
                chosen = v
                break
        if chosen is None:
            break
        st.move(chosen, h)
        moved += weight[chosen]
        cand.discard(chosen)
        cand.update(u for u in nbrs[chosen] if lab[u] == g and not locked[u])
    return moved


def _power_cut(st: _State, g: int, sends: Mapping[int, int]) -> dict[int, list[int]] | None:
    """Which of ``g``'s households go to each receiver: the cells of a power diagram of the
    grids' sites (the least total squared distance to the new grid's site, with the amounts
    fixed), so that every new border inside ``g`` is a straight line. None when no such split
    exists (locked households in the way)."""
    nodes = [v for v in st.members[g] if not st.locked[v]]
    targets = [h for h in sends if sends[h] > 0]
    if not nodes or not targets:
        return None
    idx = np.asarray(nodes, dtype=np.int64)
    px, py = st.x[idx], st.y[idx]
    gx, gy = st.site[g]
    site = cut_sites(st.shapes, g, st.site[g], {h: st.site[h] for h in targets})
    # gain of sending v to h instead of keeping it: |v - g|^2 - |v - h|^2 (a linear function)
    gain = np.stack([2 * (px * (site[h][0] - gx) + py * (site[h][1] - gy))
                     - (site[h][0] ** 2 + site[h][1] ** 2 - gx ** 2 - gy ** 2)
                     for h in targets], axis=1)
    w = st.graph.weight[idx]
    if len(targets) == 1:
        order = np.argsort(-gain[:, 0], kind="stable")
        take = np.cumsum(w[order]) <= sends[targets[0]]
        return {targets[0]: idx[order[take]].tolist()}
    return _transport(idx, w, gain, targets, [sends[h] for h in targets])


def _transport(idx: np.ndarray, w: np.ndarray, gain: np.ndarray, targets: list[int],
               amounts: list[int]) -> dict[int, list[int]] | None:
    """The assignment of households to receivers (or none) with the given amounts and the most
    total gain: a small transportation problem, solved by HiGHS (scipy)."""
    n, k = gain.shape
    scale = float(np.abs(gain).max()) or 1.0
    cost = -(gain / scale).ravel()  # variable v * k + j: household v to receiver j
    var = np.arange(n * k)
    once = sparse.csr_matrix((np.ones(n * k), (var // k, var)), shape=(n, n * k))
    amount = sparse.csr_matrix((np.repeat(w, k).astype(float), (var % k, var)), shape=(k, n * k))
    res = linprog(cost, A_ub=once, b_ub=np.ones(n), A_eq=amount, b_eq=np.asarray(amounts),
                  bounds=(0, 1), method="highs")
    if not res.success:
        return None
    share = res.x.reshape(n, k)
    best = share.argmax(axis=1)
    chosen = share[np.arange(n), best] > 0.5
    return {h: idx[chosen & (best == j)].tolist() for j, h in enumerate(targets)}


def _give(st: _State, g: int, sends: Mapping[int, int],
          cancel: Callable[[], bool] | None) -> None:
    """Send ``sends[h]`` households of ``g`` to each neighbour ``h``.

    First by a straight power cut, with the receivers it cannot reach in one piece served
    household by household from the border (:func:`_transfer`); when that falls short (two
    receivers reach ``g`` through the same few households, and serving one cuts the other off),
    also the other orders: those receivers first and then the cut, or all of them one by one
    as the flow listed them largest first. The attempt that sends the most is kept, the first
    one on a tie."""
    if cancel is not None and cancel():
        raise Cancelled
    mine = list(st.members[g])
    want = sum(sends.values())
    best: list[tuple[int, int]] = []
    for attempt in (_cut_first, _walk_broken_first, _walk_all):
        attempt(st, g, sends, cancel)
        moved = [(v, st.lab[v]) for v in mine if st.lab[v] != g]
        sent = sum(st.weight[v] for v, _ in moved)
        if sent > sum(st.weight[v] for v, _ in best):
            best = moved
        for v, _ in moved:
            st.move(v, g)
        if sent >= want:
            break
    for v, h in best:
        st.move(v, h)


def _cut_first(st: _State, g: int, sends: Mapping[int, int],
               cancel: Callable[[], bool] | None) -> None:
    for h in _try_cut(st, g, sends):
        _transfer(st, g, h, sends[h], cancel)


def _walk_broken_first(st: _State, g: int, sends: Mapping[int, int],
                       cancel: Callable[[], bool] | None) -> None:
    broken = _try_cut(st, g, sends, keep=False)
    for h in sorted(broken, key=lambda k: -sends[k]):
        _transfer(st, g, h, sends[h], cancel)
    rest = {h: n for h, n in sends.items() if h not in broken}
    for h in _try_cut(st, g, rest):
        _transfer(st, g, h, rest[h], cancel)


def _walk_all(st: _State, g: int, sends: Mapping[int, int],
              cancel: Callable[[], bool] | None) -> None:
    for h, amount in sorted(sends.items(), key=lambda kv: -kv[1]):
        _transfer(st, g, h, amount, cancel)


def _try_cut(st: _State, g: int, sends: Mapping[int, int], keep: bool = True) -> list[int]:
    """Apply the power cut of ``g`` for ``sends`` and return the receivers it could not serve
    without cutting one of them in two (all of them when it would cut ``g``), whose part is
    undone; with ``keep=False`` the whole cut is undone."""
    if not sends:
        return []
    cut = _power_cut(st, g, sends)
    if cut is None:
        return list(sends)
    for h, vs in cut.items():
        for v in vs:
            st.move(v, h)
    broken = [h for h in cut if len(st.pieces(h)) > 1]
    if len(st.pieces(g)) > 1:
        broken = list(sends)
    for h in cut if not keep else broken:
        for v in cut[h]:
            st.move(v, g)
    if broken and len(st.pieces(g)) > 1:  # undoing a piece cut g: undo them all
        for h in set(cut) - set(broken):
            for v in cut[h]:
                st.move(v, g)
        broken = list(sends)
    return broken


def rebalance_town(
    x: np.ndarray,
    y: np.ndarray,
    grid: np.ndarray,
    *,
    kind_of: Mapping[int, str],
    village_of: Mapping[int, str],
    bounds: Mapping[str, tuple[int, int]],
    locked_grids: Iterable[int] = (),
    locked: np.ndarray | None = None,
    town=None,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    first_label: int = -1,
    graph: HouseholdGraph | None = None,
    shapes: Mapping[int, object] | None = None,
) -> TownPlan:
    """Propose new grids for one town's households.

    Parameters
    ----------
    x, y : household positions in metres (a local plane, see :func:`geo.adjacency.local_metres`).
    grid : each household's current grid id.
    kind_of, village_of : each grid's kind ("rural"/"urban") and village or community name.
    bounds : inclusive (min, max) households per grid, by kind.
    locked_grids : grids that must not change (no household in or out).
    locked : per household, True when it must stay in its grid.
    town : the town polygon in the same metres (edges leaving it do not count as adjacency).
    progress : called with (fraction done, stage) now and then.
    cancel : polled during the work; when it returns True, :class:`Cancelled` is raised.
    first_label : the label of the first grid a split creates (then -2, -3, ...).
    graph : the households' adjacency graph, when the caller has built it already (its nodes
        must not join households of different grids: build it with one node per household).

    Returns
    -------
    TownPlan

    Examples
    --------
    >>> import numpy as np
    >>> x = np.repeat(np.arange(10.0), 10); y = np.tile(np.arange(10.0), 10)
    >>> grid = np.where(x < 7, 1, 2)               # 70 and 30 households
    >>> plan = rebalance_town(x, y, grid, kind_of={1: "urban", 2: "urban"},
    ...                       village_of={1: "a", 2: "a"}, bounds={"urban": (40, 60)})
    >>> sorted(Counter(plan.labels.tolist()).values()), plan.moved
    ([40, 60], 10)
    """
    grid = np.asarray(grid, dtype=np.int64)
    locked = np.zeros(len(grid), dtype=bool) if locked is None else np.asarray(locked, bool)
    locked_grids = {int(g) for g in locked_grids}
    report = progress or (lambda _f, _s: None)
    report(0.0, "graph")
    if graph is None:
        graph = household_graph(x, y, grid, town)
    st = _State(graph, grid, locked, kind_of, village_of, bounds, locked_grids)
    st.shapes = dict(shapes or {})
    st.next_label = first_label
    before = dict(st.count)
    bound = lower_bound(before, {g: st.lo(g) for g in before}, {g: st.hi(g) for g in before})

    def unchanged(why: Note) -> TownPlan:
        notes = [*st.notes, why]
        return TownPlan(labels=grid.copy(), new_grids={}, retired=[], notes=notes,
                        balanced=False, lower_bound=bound, moved=0)

    for g in sorted(locked_grids & set(before)):
        if st.out_of_bounds(g):
            st.notes.append(Note("plan.note.locked_out", {"grid": g, "households": st.count[g]}))
    report(0.1, "repair")
    _repair_pieces(st)
    why = _fix_count(st)
    if why is not None:
        return unchanged(why)
    _corridors(st)
    for r in range(_ROUNDS):
        if cancel is not None and cancel():
            raise Cancelled
        report(0.2 + 0.7 * r / _ROUNDS, "flow")
        if not any(st.out_of_bounds(g) for g in st.free()):
            break
        sends, unmet = _flow(st)
        if unmet:
            return unchanged(Note("plan.note.unreachable", {"grids": unmet}))
        if not sends:
            break
        out: dict[int, dict[int, int]] = defaultdict(dict)
        for (g, h), amount in sends.items():
            out[g][h] = amount
        for g in sorted(out, key=lambda k: -sum(out[k].values())):
            _give(st, g, out[g], cancel)
    stuck = [g for g in st.free() if st.out_of_bounds(g)]
    if stuck:
        return unchanged(Note("plan.note.stuck", {"grids": stuck}))
    report(1.0, "done")
    labels = np.asarray(st.lab, dtype=np.int64)[graph.node]
    return TownPlan(labels=labels, new_grids=st.new_grids, retired=st.retired, notes=st.notes,
                    balanced=True, lower_bound=bound, moved=int((labels != grid).sum()))
