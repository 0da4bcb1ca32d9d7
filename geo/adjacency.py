"""Household adjacency: who is next to whom, for grid contiguity, cut edges and compactness.

Two households are neighbours when their points share an edge of the Delaunay triangulation (the
dual of their Voronoi cells), built per town so that no edge crosses a town boundary; with a town
polygon, edges that leave it (across a bay of a concave town) are dropped. Households at the same
point are one *place*; places are the graph's nodes, so a block of flats moves as one unless its
households are in different grids.

A grid is contiguous when its households form one connected piece of this graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = [
    "HouseholdGraph",
    "components",
    "cut_edges",
    "household_graph",
    "local_metres",
    "polsby_popper",
]

LONG_EDGE = 60.0  # metres: Delaunay edges longer than this are checked against the town
_KX = 111_320.0  # metres per degree of longitude at the equator
_KY = 110_574.0  # metres per degree of latitude


def local_metres(lon: np.ndarray, lat: np.ndarray, lat0: float | None = None,
                 lon0: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat -> metres in a local equirectangular plane (under a metre off EPSG:4549 over a
    district 30 km across, which is all adjacency and compactness need)."""
    lat0 = float(np.mean(lat)) if lat0 is None else lat0
    lon0 = float(np.mean(lon)) if lon0 is None else lon0
    return (lon - lon0) * _KX * np.cos(np.radians(lat0)), (lat - lat0) * _KY


@dataclass
class HouseholdGraph:
    """Nodes are places (distinct points with one current grid); ``node`` maps each household
    to its node; ``weight`` counts households per node; ``nbrs[i]`` lists node i's neighbours."""

    node: np.ndarray  # household -> node
    weight: np.ndarray  # node -> households
    x: np.ndarray  # node -> metres
    y: np.ndarray
    edges: np.ndarray  # (m, 2) node pairs, i < j
    nbrs: list[np.ndarray]

    @property
    def size(self) -> int:
        return len(self.weight)


def _delaunay_edges(px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """(m, 2) index pairs of the Delaunay edges of distinct points (px, py)."""
    n = len(px)
    if n < 2:
        return np.empty((0, 2), dtype=np.int64)
    if n == 2:
        return np.array([[0, 1]])
    lines = shapely.get_parts(shapely.delaunay_triangles(shapely.multipoints(np.c_[px, py]),
                                                         only_edges=True))
    if len(lines) == 0:  # all points on one line: chain them in order
        order = np.lexsort((py, px))
        return np.sort(np.c_[order[:-1], order[1:]], axis=1)
    ends = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    keys = px + 1j * py  # the points are distinct, so a complex key finds each exactly
    sorter = np.argsort(keys)
    flat = ends[:, :, 0] + 1j * ends[:, :, 1]
    idx = sorter[np.searchsorted(keys[sorter], flat)]
    return np.sort(idx, axis=1)


def household_graph(x: np.ndarray, y: np.ndarray, grid: np.ndarray,
                    town=None) -> HouseholdGraph:
    """The adjacency graph of one town's households (metres ``x``, ``y``; current ``grid``).

    ``town``: the town polygon in the same metres; Delaunay edges leaving it are dropped (but an
    edge is kept when dropping it would leave a household with no neighbour at all).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    grid = np.asarray(grid)
    # places: distinct (point, grid); points: distinct coordinates
    point_key = np.round(x, 3) + 1j * np.round(y, 3)
    upoint, point_of = np.unique(point_key, return_inverse=True)
    place_key = np.c_[point_of, grid]
    uplace, node = np.unique(place_key, axis=0, return_inverse=True)
    node = node.ravel()
    weight = np.bincount(node, minlength=len(uplace))
    px, py = upoint.real, upoint.imag
    pedges = _delaunay_edges(px, py)
    if town is not None and len(pedges):
        # only long edges can leave the town (short ones would need a bay narrower than them)
        length = np.hypot(px[pedges[:, 0]] - px[pedges[:, 1]], py[pedges[:, 0]] - py[pedges[:, 1]])
        long_ = np.flatnonzero(length > LONG_EDGE)
        segs = shapely.linestrings(np.stack([np.c_[px[pedges[long_, 0]], py[pedges[long_, 0]]],
                                             np.c_[px[pedges[long_, 1]], py[pedges[long_, 1]]]],
                                            axis=1))
        area = shapely.buffer(town, 1.0)
        shapely.prepare(area)
        inside = np.ones(len(pedges), dtype=bool)
        inside[long_] = shapely.covered_by(segs, area)
        deg = np.bincount(pedges[inside].ravel(), minlength=len(px))
        keep = inside | (deg[pedges[:, 0]] == 0) | (deg[pedges[:, 1]] == 0)
        pedges = pedges[keep]
    # node edges: places of adjacent points, and places sharing a point
    places_at: dict[int, list[int]] = {}
    for i, p in enumerate(uplace[:, 0].tolist()):
        places_at.setdefault(p, []).append(i)
    if all(len(v) == 1 for v in places_at.values()):
        first = np.array([v[0] for _, v in sorted(places_at.items())])
        edges = first[pedges] if len(pedges) else np.empty((0, 2), dtype=np.int64)
    else:
        pairs = []
        for a, b in pedges.tolist():
            pairs.extend((i, j) for i in places_at[a] for j in places_at[b])
        for v in places_at.values():
            pairs.extend((v[i], v[j]) for i in range(len(v)) for j in range(i + 1, len(v)))
        edges = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    edges = np.unique(np.sort(edges, axis=1), axis=0) if len(edges) else edges
    nx_ = px[uplace[:, 0]]
    ny_ = py[uplace[:, 0]]
    return HouseholdGraph(node=node, weight=weight, x=nx_, y=ny_, edges=edges,
                          nbrs=_neighbour_lists(len(uplace), edges))


def _neighbour_lists(n: int, edges: np.ndarray) -> list[np.ndarray]:
    if not len(edges):
        return [np.empty(0, dtype=np.int64) for _ in range(n)]
    both = np.concatenate([edges, edges[:, ::-1]])
    both = both[np.argsort(both[:, 0], kind="stable")]
    cuts = np.searchsorted(both[:, 0], np.arange(n + 1))
    return [both[cuts[i]:cuts[i + 1], 1] for i in range(n)]


def components(graph: HouseholdGraph, label: np.ndarray) -> dict[object, int]:
    """Number of connected pieces of each label's nodes (1 means contiguous)."""
    labels = np.asarray(label).tolist()
    seen = np.zeros(graph.size, dtype=bool)
    out: dict[object, int] = {}
    for start in range(graph.size):
        if seen[start]:
            continue
        lab = labels[start]
        out[lab] = out.get(lab, 0) + 1
        stack = [start]
        seen[start] = True
        while stack:
            v = stack.pop()
            for u in graph.nbrs[v].tolist():
                if not seen[u] and labels[u] == lab:
                    seen[u] = True
                    stack.append(u)
    return out


def cut_edges(graph: HouseholdGraph, label: np.ndarray) -> int:
    """Edges whose two ends are in different grids: a rough, robust measure of border length."""
    if not len(graph.edges):
        return 0
    label = np.asarray(label)
    return int((label[graph.edges[:, 0]] != label[graph.edges[:, 1]]).sum())


def polsby_popper(polygons) -> np.ndarray:
    """4πA / P² of each polygon (metres): 1 for a disc, small for a ragged or stretched shape."""
    polygons = np.asarray(polygons, dtype=object)
    area = shapely.area(polygons)
    perimeter = shapely.length(polygons)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(perimeter > 0, 4 * np.pi * area / perimeter**2, 0.0)
