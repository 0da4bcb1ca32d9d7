"""New grid boundaries for a rebalanced plan, drawn around the households each grid now holds.

Only the grids whose households changed are redrawn; every other grid keeps its stored polygon, so
the new layer still tiles the town. Two drawings are made and the better one is kept:

- **Cuts** (:func:`_power_cells`). Each grid that gave households away is cut, inside its old
  polygon, by a power diagram (a Voronoi diagram with weights, whose cells are convex) whose sites
  are its households' centre and, for each neighbour that took some, the middle of the border the
  two share (:func:`cut_sites`); the weights are fitted by a small linear programme so that every
  household falls in its new grid's cell. The pieces go to the neighbours. Borders where nothing
  moved stay exactly where they were and the new ones are straight lines. The rebalancer
  (:mod:`geo.rebalance`) chooses the households it moves with the same sites, so its choice is
  such a cut whenever it can be.
- **Voronoi.** The region R, the union of the changed grids' old polygons, is cut into the Voronoi
  cells of the changed grids' households and the cells are dissolved by new grid, then smoothed as
  a coverage (see :data:`SIMPLIFY`). This follows any assignment (a hand edit, a repair that moves
  a whole stray piece of a grid) but redraws every border inside R along the households' outline.

Either way a grid whose area falls in several pieces keeps the piece with most of its households
and gives the others to the neighbour sharing the longest border with them, so every grid is one
polygon, and a household left on another grid's side gets its Voronoi cell back where that keeps
every grid in one piece. A drawing that leaves a gap or an overlap loses; then the one with fewer
households left outside their grid wins, then the more compact one (mean Polsby-Popper).

Measured on the demo's most unbalanced town (bench/rebalance.py): the Voronoi drawing alone lost
0.057 of the town's mean compactness, the cuts 0.032.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import shapely
import shapely.affinity
from scipy import sparse
from scipy.optimize import linprog
from shapely.geometry import Polygon

from geo.adjacency import local_metres, polsby_popper

__all__ = ["SIMPLIFY", "changed_grids", "cut_sites", "redraw"]

# The Voronoi borders between the households of two grids zigzag at the spacing of the households;
# smoothing them at about that spacing (3e-4 degrees, ~30 m here) takes most of the zigzag out
# of the perimeter (and so out of the Polsby-Popper compactness) while leaving over 99% of the
# households on their own grid's side (measured on the demo's most unbalanced town).
SIMPLIFY = 3e-4


def changed_grids(old: np.ndarray, new: np.ndarray) -> set[int]:
    """Grids that lost or gained a household (including grids created or merged away)."""
    moved = old != new
    return set(np.unique(old[moved]).tolist()) | set(np.unique(new[moved]).tolist())


def _pieces(geom) -> list[Polygon]:
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]


def redraw(lon: np.ndarray, lat: np.ndarray, old: np.ndarray, new: np.ndarray,
           polygons: Mapping[int, Polygon], simplify: float = SIMPLIFY,
           origin: tuple[float, float] | None = None) -> dict[int, Polygon]:
    """Polygons (lon/lat) of the grids whose households changed.

    Parameters
    ----------
    lon, lat : one town's households.
    old, new : each household's grid before and after (new grids may have any new label).
    polygons : the stored polygon of every grid before (at least of those that changed).
    simplify : tolerance (degrees) of the coverage simplification of the redrawn borders; 0 keeps
        the raw Voronoi zigzag.

    Returns
    -------
    dict label -> Polygon for every changed grid that still holds households.
    """
    old = np.asarray(old)
    new = np.asarray(new)
    changed = changed_grids(old, new)
    if not changed:
        return {}
    region = shapely.union_all([polygons[g] for g in changed if g in polygons])
    sel = np.isin(new, list(changed))
    px, py, lab, was = np.asarray(lon)[sel], np.asarray(lat)[sel], new[sel], old[sel]
    key = px + 1j * py
    upts, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.ravel()
    after = _majority(inverse, lab, len(upts))
    if len(upts) == 1:
        return {int(after[0]): _largest(region)}
    diagram = shapely.voronoi_polygons(shapely.multipoints(np.c_[upts.real, upts.imag]),
                                       extend_to=region, ordered=True)
    cells = shapely.intersection(shapely.get_parts(diagram), region)
    plane = _Plane(origin if origin is not None else (float(np.mean(px)), float(np.mean(py))))
    dissolved = {g: shapely.union_all(cells[after == g]) for g in np.unique(after).tolist()}
    voronoi = _give_back(_smooth(_single(dissolved, lon=px, lat=py, label=lab), simplify),
                         cells, upts, after)
    cut = _give_back(_single(_power_split(polygons, changed, px, py, was, lab, plane),
                             lon=px, lat=py, label=lab), cells, upts, after)
    return min((cut, voronoi), key=lambda shapes: (not _tiles(shapes, region),
                                                   _misplaced(shapes, upts, after),
                                                   -_compactness(shapes, plane)))


class _Plane:
    """Local metres around ``origin`` (lon, lat), as :func:`geo.adjacency.local_metres`, with
    the affine matrices both ways (shapely's order)."""

    def __init__(self, origin: tuple[float, float]) -> None:
        lon0, lat0 = origin
        self.origin = origin
        kx, ky = local_metres(np.array([lon0 + 1.0]), np.array([lat0 + 1.0]), lat0=lat0,
                              lon0=lon0)
        kx, ky = float(kx[0]), float(ky[0])
        self.to_m = [kx, 0, 0, ky, -lon0 * kx, -lat0 * ky]
        self.to_deg = [1 / kx, 0, 0, 1 / ky, lon0, lat0]

    def xy(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return local_metres(lon, lat, lat0=self.origin[1], lon0=self.origin[0])

    def metres(self, geom):
        return shapely.affinity.affine_transform(geom, self.to_m)

    def degrees(self, geom):
        return shapely.affinity.affine_transform(geom, self.to_deg)


def _tiles(shapes: Mapping[int, Polygon], region) -> bool:
    """Do the shapes cover the region without gaps or overlaps (beyond rounding)?"""
    total = sum(g.area for g in shapes.values())
    return abs(total - region.area) <= 1e-9 * region.area and abs(
        shapely.union_all(list(shapes.values())).area - region.area) <= 1e-9 * region.area


def _misplaced(shapes: Mapping[int, Polygon], points: np.ndarray, label: np.ndarray) -> int:
    """Places outside their own grid's polygon."""
    out = 0
    for g in np.unique(label).tolist():
        mine = label == g
        if g not in shapes:
            out += int(mine.sum())
            continue
        out += int((~shapely.contains_xy(shapes[g], points.real[mine], points.imag[mine])).sum())
    return out


def _compactness(shapes: Mapping[int, Polygon], plane: _Plane) -> float:
    if not shapes:
        return 0.0
    return float(np.mean(polsby_popper([plane.metres(g) for g in shapes.values()])))


def _power_split(polygons: Mapping[int, Polygon], changed: set[int], lon: np.ndarray,
                 lat: np.ndarray, old: np.ndarray, new: np.ndarray,
                 plane: _Plane) -> dict[int, object]:
    """Each grid that gave households away is cut, inside its old polygon, by the power diagram
    of :func:`cut_sites` that separates the households it keeps from those each neighbour
    takes; the cells go to those neighbours. Old borders stay where nothing moved."""
    x, y = plane.xy(lon, lat)
    metres = {int(g): plane.metres(polygons[g]) for g in changed if g in polygons}
    gains: dict[int, list] = {int(g): [] for g in changed}
    shape: dict[int, object] = {int(g): polygons.get(int(g), Polygon()) for g in changed}
    for g in np.unique(old[old != new]).tolist():
        mine = old == g
        if g not in metres:
            continue
        takers = sorted(set(new[mine].tolist()) - {g})
        centre = {k: (float(x[m].mean()), float(y[m].mean()))
                  for k in takers for m in [(old == k) if (old == k).any() else (new == k)]}
        site = cut_sites(metres, g, (float(x[mine].mean()), float(y[mine].mean())), centre)
        weight = _power_weights(x[mine], y[mine], new[mine], site)
        for k, piece in _power_cells(polygons[g], site, weight, plane).items():
            if k == g:
                shape[int(g)] = piece
            elif not piece.is_empty:
                gains.setdefault(int(k), []).append(piece)
    old_vertices = shapely.multipoints(np.concatenate(
        [shapely.get_coordinates(polygons[g]) for g in changed if g in polygons]))
    out: dict[int, object] = {}
    for g in set(shape) | set(gains):
        # a piece's edge along the old border has a new vertex a rounding error off it, and a
        # cut computed for either side of it differs by one: on a fine common grid (1e-12
        # degrees, 0.1 micrometre) the union sees the shared stretch and neighbours share edges
        parts = [shapely.set_precision(p, GRID) for p in [shape.get(g, Polygon()),
                                                           *gains.get(g, [])]]
        geom = shapely.union_all(parts, grid_size=GRID)
        if not geom.is_empty:
            out[g] = _snap_back(geom, old_vertices)
    return out


def _snap_back(geom, vertices):
    """Put the vertices the fine grid moved back onto the old polygons' own vertices, so that the
    borders with grids that did not change match them exactly."""
    snapped = shapely.snap(geom, vertices, GRID * 10)
    return snapped if snapped.is_valid and snapped.area > 0 else geom


def cut_sites(shapes: Mapping[int, Polygon], g: int, centre_g: tuple[float, float],
              centres: Mapping[int, tuple[float, float]]) -> dict[int, tuple[float, float]]:
    """The sites of the power diagram that cuts grid ``g`` for its neighbours: ``g``'s own at
    the centre of its households; each neighbour's at the middle of the border the two polygons
    share (so its piece of ``g`` always touches it), or at the centre of its households when
    they share none."""
    out = {g: centre_g}
    for h, centre in centres.items():
        mid = _border_middle(shapes.get(g), shapes.get(h))
        out[h] = centre if mid is None else mid
    return out


def _border_middle(a, b) -> tuple[float, float] | None:
    if a is None or b is None:
        return None
    shared = shapely.line_merge(shapely.intersection(a.boundary, b.boundary))
    lines = [p for p in shapely.get_parts(shared) if p.geom_type == "LineString" and p.length > 0]
    if not lines:
        return None
    line = max(lines, key=lambda p: p.length)
    mid = line.interpolate(0.5, normalized=True)
    return float(mid.x), float(mid.y)


ANCHOR = 20.0  # metres
GRID = 1e-12  # degrees


def _power_weights(x: np.ndarray, y: np.ndarray, label: np.ndarray,
                   site: Mapping[int, tuple[float, float]]) -> dict[int, float]:
    """Weights of a power diagram of ``site`` that puts every household in its own grid's
    cell with the widest margin (a small linear programme, HiGHS through scipy); households no
    weights can separate cost a slack and are handed back later (:func:`_give_back`). Each
    neighbour's site (the middle of its border) is asked, more softly, to lie well inside its
    own cell too, so that its piece shares a stretch of border with it."""
    keys = list(site)
    k = len(keys)
    x = np.r_[x, [site[s][0] for s in keys[1:]]]
    y = np.r_[y, [site[s][1] for s in keys[1:]]]
    label = np.r_[label, keys[1:]]
    n = len(x)
    idx = {s: i for i, s in enumerate(keys)}
    c = np.array([site[s] for s in keys])
    score = 2 * (np.c_[x, y] @ c.T) - (c ** 2).sum(axis=1)  # power score without weights
    own = np.array([idx[int(v)] for v in label.tolist()])
    v, j = np.nonzero(np.arange(k)[None, :] != own[:, None])
    m = len(v)
    rows = np.repeat(np.arange(m), 4)
    cols = np.c_[own[v], j, np.full(m, k), k + 1 + v].ravel()
    vals = np.tile([-1.0, 1.0, 1.0, -1.0], m)
    gap = score[v, own[v]] - score[v, j]  # (w_own - w_j) + gap >= margin - slack
    # an anchor is to lie ANCHOR metres inside its cell, so that the piece shares a border
    anchor = v >= n - (k - 1)
    gap[anchor] -= 2 * ANCHOR * np.hypot(*(c[own[v[anchor]]] - c[j[anchor]]).T)
    scale = float(np.abs(gap).max()) or 1.0
    a = sparse.csr_matrix((vals, (rows, cols)), shape=(m, k + 1 + n))
    cost = np.r_[np.zeros(k), -1.0, np.full(n - k + 1, 1e3), np.full(k - 1, 1e2)]
    bounds = [(0, 0), *[(None, None)] * (k - 1), (0, 1), *[(0, None)] * n]
    res = linprog(cost, A_ub=a, b_ub=gap / scale, bounds=bounds, method="highs")
    w = res.x[:k] * scale if res.success else np.zeros(k)
    return {s: float(w[i]) for i, s in enumerate(keys)}


def _power_cells(poly, site: Mapping[int, tuple[float, float]], weight: Mapping[int, float],
                 plane: _Plane) -> dict[int, object]:
    """The parts of ``poly`` (lon/lat) where each site's power score 2 c.p - |c|^2 + w is highest
    (sites in ``plane``'s metres). The half-planes are mapped to lon/lat, never ``poly`` to
    metres, so that its borders keep their exact vertices and the pieces still fit the
    neighbours' polygons."""
    minx, miny, maxx, maxy = plane.metres(shapely.box(*poly.bounds)).bounds
    big = 10 * max(maxx - minx, maxy - miny) + 1
    centre = np.array([(minx + maxx) / 2, (miny + maxy) / 2])
    out = {}
    for s, cs in site.items():
        cell = poly
        for j, cj in site.items():
            nrm = 2 * (np.asarray(cs) - np.asarray(cj))
            size = float(np.hypot(*nrm))
            if j == s or size == 0:
                continue
            # 2 (c_s - c_j).p >= |c_s|^2 - |c_j|^2 - w_s + w_j, through the point of the line
            # nearest the polygon's centre so that "big" reaches past the polygon
            off = float(np.dot(cs, cs) - np.dot(cj, cj)) - weight[s] + weight[j]
            u = nrm / size
            d = np.array([-u[1], u[0]])
            p0 = centre + u * (off / size - float(np.dot(u, centre)))
            half = Polygon([p0 + d * big, p0 + d * big + u * big, p0 - d * big + u * big,
                            p0 - d * big])
            cell = shapely.intersection(cell, plane.degrees(half))
        out[s] = cell
    return out


def _give_back(shapes: dict[int, Polygon], cells: np.ndarray, points: np.ndarray,
               label: np.ndarray, passes: int = 8) -> dict[int, Polygon]:
    """A place left on another grid's side gets its own Voronoi cell back, when that keeps
    every grid one piece; nearest places first and in several passes, so that a group of
    places grows back from the grid's side."""
    shapes = dict(shapes)
    for _ in range(passes):
        done = 0
        for g in list(shapes):
            mine = np.flatnonzero(label == g)
            out = mine[~shapely.contains_xy(shapes[g], points.real[mine], points.imag[mine])]
            if not len(out):
                continue
            near = shapely.distance(shapes[g], shapely.points(points.real[out], points.imag[out]))
            for i in out[np.argsort(near, kind="stable")].tolist():
                grown = _pieces(shapely.union(shapes[g], cells[i]))
                if len(grown) != 1:
                    continue  # the cell does not touch the grid (yet)
                trimmed = {k: shapely.difference(v, cells[i]) for k, v in shapes.items()
                           if k != g and v.intersects(cells[i])}
                if any(len(_pieces(v)) != 1 for v in trimmed.values()):
                    continue  # taking the cell would cut a neighbour in two
                shapes[g] = grown[0]
                shapes.update({k: _pieces(v)[0] for k, v in trimmed.items()})
                done += 1
        if not done:
            break
    return shapes


def _smooth(shapes: dict[int, Polygon], tolerance: float) -> dict[int, Polygon]:
    """Simplify the redrawn borders as a coverage: shared borders stay shared and the outline of
    the redrawn region (the borders with grids that did not change) is kept exactly."""
    if tolerance <= 0 or len(shapes) < 2:
        return shapes
    keys = list(shapes)
    smooth = shapely.coverage_simplify(np.array([shapes[k] for k in keys], dtype=object),
                                       tolerance, simplify_boundary=False)
    return {k: (s if s.geom_type == "Polygon" and s.is_valid and not s.is_empty else shapes[k])
            for k, s in zip(keys, smooth, strict=True)}


def _majority(inverse: np.ndarray, label: np.ndarray, n: int) -> np.ndarray:
    """The label held by most households at each place (ties: the smaller label)."""
    votes: dict[int, dict[int, int]] = {}
    for p, g in zip(inverse.tolist(), label.tolist(), strict=True):
        votes.setdefault(p, {}).setdefault(g, 0)
        votes[p][g] += 1
    return np.array([max(votes[p].items(), key=lambda kv: (kv[1], -kv[0]))[0]
                     for p in range(n)], dtype=np.int64)


def _largest(geom) -> Polygon:
    parts = _pieces(geom)
    return max(parts, key=lambda p: p.area) if parts else Polygon()


def _single(shapes: dict[int, object], *, lon, lat, label) -> dict[int, Polygon]:
    """Make every grid one polygon: stray pieces go to the neighbour with the longest border."""
    points = shapely.points(lon, lat)
    keep: dict[int, Polygon] = {}
    loose: list[Polygon] = []
    for g, geom in shapes.items():
        parts = _pieces(geom)
        if not parts:
            continue
        if len(parts) == 1:
            keep[g] = parts[0]
            continue
        mine = points[label == g]
        held = [int(shapely.contains(p, mine).sum()) for p in parts]
        best = max(range(len(parts)), key=lambda i: (held[i], parts[i].area))
        keep[g] = parts[best]
        loose.extend(p for i, p in enumerate(parts) if i != best)
    for _ in range(3):
        waiting = []
        for piece in loose:
            shared = {g: shapely.length(shapely.intersection(poly.boundary, piece.boundary))
                      for g, poly in keep.items()}
            g = max(shared, key=shared.get)
            if shared[g] <= 0:
                waiting.append(piece)
                continue
            merged = shapely.union(keep[g], piece)
            parts = _pieces(merged)
            keep[g] = parts[0] if len(parts) == 1 else max(parts, key=lambda p: p.area)
        if not waiting:
            break
        loose = waiting
    return keep
