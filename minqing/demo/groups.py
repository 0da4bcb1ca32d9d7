"""Cadres, grid service groups and the three-level pairings (结对).

Every grid gets one service group led by a village-level liaison cadre (联户干部); its backbone is
one central household per natural village (rural) or one community service worker per 100–200
households (urban), plus a police officer, a teacher, a medic and 1–3 party volunteers. A fixed
set of district, town and village cadres is paired with the backbone members, so that every
paired cadre has someone to visit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from minqing.demo.geography import GridPlan
from minqing.demo.people import Households, names, phones

DISTRICT_UNITS = ("区委办", "区府办", "区委组织部", "区发改局", "区民政局", "区住建局", "区农业农村局",
                  "区卫健局", "区教育局", "区人社局", "区司法局", "区信访局", "区综合执法局",
                  "区市场监管局", "区应急管理局", "区交通运输局", "区水利局", "区财政局")
TOWN_UNITS = ("党政办", "综治中心", "社会事务办", "农业农村办", "城建办", "经济发展办", "平安办")


@dataclass
class Cadres:
    name: list[str]
    phone: list[str]
    level: list[str]
    town: list[int | None]  # town index, None for district cadres
    unit: list[str]
    grid_leader: np.ndarray  # cadre index leading each grid's group
    paired: dict[str, dict[int | None, list[int]]]  # level -> town -> paired cadre indices

    def add(self, name: str, phone: str, level: str, town: int | None, unit: str) -> int:
        self.name.append(name)
        self.phone.append(phone)
        self.level.append(level)
        self.town.append(town)
        self.unit.append(unit)
        return len(self.name) - 1


@dataclass
class Groups:
    lon: np.ndarray  # service point per grid/group
    lat: np.ndarray
    m_group: list[int] = field(default_factory=list)
    m_role: list[str] = field(default_factory=list)
    m_name: list[str] = field(default_factory=list)
    m_phone: list[str] = field(default_factory=list)
    m_cadre: list[int | None] = field(default_factory=list)
    m_household: list[int | None] = field(default_factory=list)
    p_cadre: list[int] = field(default_factory=list)
    p_member: list[int] = field(default_factory=list)
    p_level: list[str] = field(default_factory=list)


def make_cadres(
    grids: GridPlan, town_names: list[str], paired: tuple[int, int, int], rng: np.random.Generator
) -> Cadres:
    """Group leaders (one village cadre per grid) plus the paired district/town/village cadres.

    ``paired`` = (district cadres, town cadres per town, village cadres per town) to pair.
    """
    n_district, n_town, n_village = paired
    n_towns = len(town_names)
    total = len(grids.code) + n_district + n_town * n_towns
    pool_names = names(rng, total).tolist()
    pool_phones = phones(rng, total).tolist()
    cadres = Cadres([], [], [], [], [], np.empty(len(grids.code), dtype=int),
                    {"district": {None: []}, "town": {}, "village": {}})
    it = iter(range(total))
    for _ in range(n_district):
        k = next(it)
        unit = DISTRICT_UNITS[int(rng.integers(len(DISTRICT_UNITS)))]
        cadres.paired["district"][None].append(
            cadres.add(pool_names[k], pool_phones[k], "district", None, unit))
    for t, tname in enumerate(town_names):
        cadres.paired["town"][t] = []
        for _ in range(n_town):
            k = next(it)
            unit = tname + TOWN_UNITS[int(rng.integers(len(TOWN_UNITS)))]
            cadres.paired["town"][t].append(cadres.add(pool_names[k], pool_phones[k], "town", t, unit))
    for g, (t, village, kind) in enumerate(zip(grids.town, grids.village, grids.kind, strict=True)):
        k = next(it)
        unit = village + ("村委会" if kind == "rural" else "居委会")
        cadres.grid_leader[g] = cadres.add(pool_names[k], pool_phones[k], "village", int(t), unit)
    for t in range(n_towns):
        leaders = cadres.grid_leader[grids.town == t]
        pick = np.sort(rng.choice(leaders, size=min(n_village, len(leaders)), replace=False))
        cadres.paired["village"][t] = pick.tolist()
    return cadres


def _pick_per_group(group: np.ndarray, count: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``count[g]`` random distinct items of each group ``g`` (items sorted by group)."""
    key = rng.random(len(group))
    order = np.lexsort((key, group))
    starts = np.searchsorted(group[order], group[order], side="left")
    rank = np.arange(len(group)) - starts
    chosen = order[rank < count[group[order]]]
    return np.sort(chosen)


def make_groups(
    grids: GridPlan, hh: Households, cadres: Cadres, rng: np.random.Generator
) -> Groups:
    """One service group per grid, with its members and the pairings of its backbone."""
    n_grid = len(grids.code)
    per_grid = np.bincount(hh.grid, minlength=n_grid)
    rural_h = grids.kind[hh.grid] == "rural"
    central = _pick_per_group(hh.cluster, np.ones(hh.cluster.max() + 1, dtype=int), rng)
    central = central[rural_h[central]]
    workers_n = np.maximum(1, np.rint(per_grid / rng.uniform(100, 200, n_grid))).astype(int)
    workers_n[grids.kind == "rural"] = 0
    workers = _pick_per_group(hh.grid, workers_n, rng)
    backbone = np.sort(np.concatenate([central, workers]))
    first_bb = backbone[np.unique(hh.grid[backbone], return_index=True)[1]]
    groups = Groups(lon=hh.lon[first_bb], lat=hh.lat[first_bb])
    extra_names = names(rng, n_grid * 6).tolist()
    extra_phones = phones(rng, n_grid * 6).tolist()
    volunteers = rng.integers(1, 4, n_grid)
    bb_by_grid = np.split(backbone, np.searchsorted(hh.grid[backbone], np.arange(1, n_grid)))
    for g in range(n_grid):
        leader = int(cadres.grid_leader[g])
        _member(groups, g, "leader", cadres.name[leader], cadres.phone[leader], cadre=leader)
        role = "central_household" if grids.kind[g] == "rural" else "service_worker"
        for h in bb_by_grid[g].tolist():
            _member(groups, g, role, str(hh.head_name[h]), str(hh.phone[h]), household=h)
        roles = ["police", "teacher", "medic"] + ["volunteer"] * int(volunteers[g])
        for j, r in enumerate(roles):
            _member(groups, g, r, extra_names[g * 6 + j], extra_phones[g * 6 + j])
    _pair(groups, grids, cadres)
    return groups


def _member(groups: Groups, g: int, role: str, name: str, phone: str, *,
            cadre: int | None = None, household: int | None = None) -> None:
    groups.m_group.append(g)
    groups.m_role.append(role)
    groups.m_name.append(name)
    groups.m_phone.append(phone)
    groups.m_cadre.append(cadre)
    groups.m_household.append(household)


def _pair(groups: Groups, grids: GridPlan, cadres: Cadres) -> None:
    """Pair each backbone member with one cadre at each level, round-robin within the town."""
    backbone = [i for i, r in enumerate(groups.m_role) if r in ("central_household", "service_worker")]
    district = cadres.paired["district"][None]
    seen: dict[int, int] = {}
    for k, m in enumerate(backbone):
        t = int(grids.town[groups.m_group[m]])
        j = seen.get(t, 0)
        seen[t] = j + 1
        for level, pool, idx in (
            ("district", district, k),
            ("town", cadres.paired["town"][t], j),
            ("village", cadres.paired["village"][t], j),
        ):
            groups.p_cadre.append(pool[idx % len(pool)])
            groups.p_member.append(m)
            groups.p_level.append(level)
