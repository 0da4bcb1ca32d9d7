"""New grid boundaries for a rebalanced plan, drawn around the households each grid now holds.

Only the grids whose households changed are redrawn; every other grid keeps its stored polygon, so
the new layer still tiles the town. The redrawn region R is the union of the changed grids' old
polygons; R is cut into the Voronoi cells of the changed grids' households (each point gets the
part of R nearer to it than to any other of them) and the cells are dissolved by new grid. A grid
whose cells fall in several pieces keeps the piece with most of its households and gives the
others to the neighbour sharing the longest border with them, so every grid is one polygon.
Finally the redrawn borders are smoothed as a coverage (see :data:`SIMPLIFY`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import shapely
from shapely.geometry import Polygon

__all__ = ["SIMPLIFY", "changed_grids", "redraw"]

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
           polygons: Mapping[int, Polygon], simplify: float = SIMPLIFY) -> dict[int, Polygon]:
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
    px, py, lab = np.asarray(lon)[sel], np.asarray(lat)[sel], new[sel]
    key = px + 1j * py
    upts, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.ravel()
    after = _majority(inverse, lab, len(upts))
    if len(upts) == 1:
        return {int(after[0]): _largest(region)}
    diagram = shapely.voronoi_polygons(shapely.multipoints(np.c_[upts.real, upts.imag]),
                                       extend_to=region, ordered=True)
    cells = shapely.intersection(shapely.get_parts(diagram), region)
    out = {g: shapely.union_all(cells[after == g]) for g in np.unique(after).tolist()}
    shapes = _smooth(_single(out, lon=px, lat=py, label=lab), simplify)
    return _give_back(shapes, cells, upts, after)


def _give_back(shapes: dict[int, Polygon], cells: np.ndarray, points: np.ndarray,
               label: np.ndarray) -> dict[int, Polygon]:
    """A place the smoothing left on another grid's side gets its own Voronoi cell back."""
    shapes = dict(shapes)
    for g in list(shapes):
        mine = np.flatnonzero(label == g)
        out = mine[~shapely.contains_xy(shapes[g], points.real[mine], points.imag[mine])]
        for i in out.tolist():
            grown = _pieces(shapely.union(shapes[g], cells[i]))
            if len(grown) != 1:
                continue  # the cell does not touch the grid: leave it (very rare)
            trimmed = {k: shapely.difference(v, cells[i]) for k, v in shapes.items()
                       if k != g and v.intersects(cells[i])}
            if any(len(_pieces(v)) != 1 for v in trimmed.values()):
                continue  # taking the cell would cut a neighbour in two
            shapes[g] = grown[0]
            shapes.update({k: _pieces(v)[0] for k, v in trimmed.items()})
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
