"""Synthetic people: names, phone numbers, ID numbers, households and their members.

Everything is drawn from a seeded numpy Generator, in whole arrays, so that 135,000 households
and ~380,000 members take well under a second. No real person is described: names are random
surname + given-name draws, phones are random, ID numbers only carry a valid check digit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import shapely

from minqing.demo.geography import DISTRICT_CODE, KX, KY, LAT0, LON0, GridPlan
from minqing.sizing import GRID_SIZE_BOUNDS

# Common surnames of the Jiaxing area first; weights fall off roughly as in a real register.
SURNAMES = list("沈朱张王陆徐陈李周吴钱顾姚金杨褚屠范孙胡蒋许俞曹费马黄戴施汪冯高郁盛潘任蔡夏陶宋")
_SURNAME_P = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.8
_SURNAME_P /= _SURNAME_P.sum()
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅海兰林峰文斌玉珍"
             "志荣凤春雪晨浩宇欣怡子涵俊杭嘉禾水根金宝林妹福生阿毛小")
PHONE_PREFIXES = np.array(["130", "131", "133", "135", "136", "137", "138", "139", "150", "151",
                           "152", "155", "157", "158", "159", "177", "180", "181", "183", "186",
                           "187", "188", "189", "199"])
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))

HOUSEHOLD_TAGS = ("wubao", "dibao", "tekun", "elderly_alone", "disabled", "military")
# Low real-world rates; wubao (five guarantees) exists only in the countryside.
_TAG_RATE = {"wubao": 0.005, "dibao": 0.03, "tekun": 0.005, "elderly_alone": 0.06,
             "disabled": 0.02, "military": 0.01}
_SIZE_P = {"rural": [0.12, 0.24, 0.25, 0.20, 0.12, 0.07], "urban": [0.15, 0.30, 0.32, 0.15, 0.06, 0.02]}
# relation of member k (k = 0..size-1) in a household of a given size
_RELATIONS = {
    1: ["head"],
    2: ["head", "spouse"],
    3: ["head", "spouse", "child"],
    4: ["head", "spouse", "child", "parent"],
    5: ["head", "spouse", "child", "child", "parent"],
    6: ["head", "spouse", "child", "child", "parent", "parent"],
}
_VILLAGE_SUFFIX = list("浜埭兜港桥湾圩庄墩角头")
_ESTATE_A = list("紫梅秀锦华禾湖月南东文昌景嘉和")
_ESTATE_B = ["花园", "新村", "小区", "家园", "苑", "公寓", "府", "雅居"]


def names(rng: np.random.Generator, n: int, surname: np.ndarray | None = None) -> np.ndarray:
    """``n`` synthetic Chinese names (surname + one or two given characters)."""
    if surname is None:
        surname = rng.choice(len(SURNAMES), size=n, p=_SURNAME_P)
    sur = np.array(SURNAMES)[surname]
    g1 = np.array(GIVEN)[rng.integers(len(GIVEN), size=n)]
    g2 = np.array([*GIVEN, ""])[rng.integers(len(GIVEN) + len(GIVEN) // 3, size=n).clip(max=len(GIVEN))]
    return np.char.add(np.char.add(sur, g1), g2)


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` synthetic mobile numbers (11 digits, real-looking prefixes, random rest)."""
    rest = np.char.zfill(rng.integers(0, 100_000_000, size=n).astype(str), 8)
    return np.char.add(PHONE_PREFIXES[rng.integers(len(PHONE_PREFIXES), size=n)], rest)


def id_numbers(rng: np.random.Generator, birth: np.ndarray) -> np.ndarray:
    """18-character resident ID numbers with region prefix 330402 and a valid check digit.

    ``birth`` is an array of numpy ``datetime64[D]`` dates.
    """
    n = len(birth)
    ymd = np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "")
    seq = np.char.zfill(rng.integers(0, 1000, size=n).astype(str), 3)
    body = np.char.add(np.char.add(DISTRICT_CODE, ymd), seq)
    digits = np.frombuffer("".join(body.tolist()).encode("ascii"), dtype=np.uint8).reshape(n, 17)
    check = ((digits - 48).astype(int) @ _ID_WEIGHTS) % 11
    return np.char.add(body, _ID_CHECK[check])


def grid_sizes(kind: np.ndarray, rng: np.random.Generator, out_share: float = 0.05) -> np.ndarray:
    """Households per grid: most within :data:`minqing.sizing.GRID_SIZE_BOUNDS`, a share outside.

    The out-of-bounds grids are chosen deliberately (half too small, half too big) so that the
    planner's rebalancing has something to find.
    """
    n = len(kind)
    sizes = np.empty(n, dtype=int)
    for k in ("rural", "urban"):
        lo, hi = GRID_SIZE_BOUNDS[k]
        idx = np.flatnonzero(kind == k)
        # right-skewed inside the bounds (mean a quarter of the way up), as real registers are
        sizes[idx] = np.rint(lo + 1 + (hi - lo - 2) * rng.beta(2.0, 6.0, len(idx)))
        out = rng.choice(idx, size=max(1, round(out_share * len(idx))), replace=False)
        low = rng.random(len(out)) < 0.5
        sizes[out] = np.where(low, rng.uniform(0.45, 0.85, len(out)) * lo,
                              rng.uniform(1.08, 1.4, len(out)) * hi).astype(int)
    return sizes


@dataclass
class Households:
    """All households as parallel arrays, plus their clusters (natural villages / estates)."""

    grid: np.ndarray
    cluster: np.ndarray  # global cluster index
    lon: np.ndarray
    lat: np.ndarray
    size: np.ndarray
    head_name: np.ndarray
    head_surname: np.ndarray
    head_birth: np.ndarray  # datetime64[D]
    phone: np.ndarray
    id_number: np.ndarray
    address: list[str]
    tags: list[str]
    cluster_grid: np.ndarray
    cluster_name: list[str]


def _cluster_counts(n: np.ndarray, rural: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Natural villages per rural grid (one central household each, 1 per 50–100 households);
    residential estates per urban grid."""
    villages = np.maximum(1, np.rint(n / rng.uniform(50, 100, len(n))))
    estates = rng.integers(2, 7, len(n))
    return np.where(rural, villages, estates).astype(int)


def _points(grids: GridPlan, grid: np.ndarray, cx, cy, sd, rng) -> tuple[np.ndarray, np.ndarray]:
    """Scatter points round their cluster centres, keeping only those inside their own grid.

    Rejected points are redrawn; after a few rounds the stragglers are placed uniformly inside the
    grid. Coordinates are rounded to 1e-6° (~0.1 m) *before* the test so that what is stored is
    exactly what was tested.
    """
    n = len(grid)
    lon, lat = np.empty(n), np.empty(n)
    todo = np.arange(n)
    polys = grids.geom
    shapely.prepare(polys)
    rounds = 0
    while len(todo):
        if rounds < 8:  # round the cluster centre
            xs = np.round((cx[todo] + rng.normal(0, sd[todo])) / KX + LON0, 6)
            ys = np.round((cy[todo] + rng.normal(0, sd[todo])) / KY + LAT0, 6)
        else:  # stragglers (thin grids): anywhere in the grid
            b = shapely.bounds(polys[grid[todo]])
            xs = np.round(rng.uniform(b[:, 0], b[:, 2]), 6)
            ys = np.round(rng.uniform(b[:, 1], b[:, 3]), 6)
        ok = shapely.contains_xy(polys[grid[todo]], xs, ys)
        lon[todo[ok]], lat[todo[ok]] = xs[ok], ys[ok]
        todo = todo[~ok]
        rounds += 1
    return lon, lat


def _cluster_centres(grids: GridPlan, cgrid: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """A centre per cluster, inside its grid (and away from its edge where the grid allows)."""
    inner = shapely.buffer(grids.geom_m, -60.0)
    ok = ~shapely.is_empty(inner) & (shapely.area(inner) > 0.25 * shapely.area(grids.geom_m))
    polys = np.where(ok, inner, grids.geom_m)
    shapely.prepare(polys)
    x, y = np.empty(len(cgrid)), np.empty(len(cgrid))
    todo = np.arange(len(cgrid))
    b = shapely.bounds(polys)
    while len(todo):
        bb = b[cgrid[todo]]
        xs, ys = rng.uniform(bb[:, 0], bb[:, 2]), rng.uniform(bb[:, 1], bb[:, 3])
        hit = shapely.contains_xy(polys[cgrid[todo]], xs, ys)
        x[todo[hit]], y[todo[hit]] = xs[hit], ys[hit]
        todo = todo[~hit]
    return x, y


def _tags(rng: np.random.Generator, rural: np.ndarray) -> np.ndarray:
    """A boolean matrix household x tag at the realistic low rates of :data:`_TAG_RATE`."""
    n = len(rural)
    rates = np.array([_TAG_RATE[t] for t in HOUSEHOLD_TAGS])
    mask = rng.random((n, len(HOUSEHOLD_TAGS))) < rates
    mask[:, 0] &= rural
    return mask


def make_households(
    grids: GridPlan, town_names: list[str], sizes: np.ndarray, as_of: dt.date, rng: np.random.Generator
) -> Households:
    """Place every grid's households in clusters and give them synthetic archive headers."""
    rural = grids.kind == "rural"
    kcl = _cluster_counts(sizes, rural, rng)
    cgrid = np.repeat(np.arange(len(sizes)), kcl)
    first = np.concatenate([[0], np.cumsum(kcl)[:-1]])
    grid = np.repeat(np.arange(len(sizes)), sizes)
    skew = rng.random(len(grid)) ** 1.25
    local = np.minimum((skew * kcl[grid]).astype(int), kcl[grid] - 1)
    pos = np.arange(len(grid)) - np.concatenate([[0], np.cumsum(sizes)[:-1]])[grid]
    local = np.where(pos < kcl[grid], pos, local)  # no cluster is left empty
    cluster = first[grid] + local
    ccx, ccy = _cluster_centres(grids, cgrid, rng)
    sd = np.where(rural[grid], rng.uniform(50, 110, len(grid)), rng.uniform(25, 55, len(grid)))
    lon, lat = _points(grids, grid, ccx[cluster], ccy[cluster], sd, rng)
    n = len(grid)
    hr = rural[grid]
    size = np.where(hr, rng.choice(6, n, p=_SIZE_P["rural"]), rng.choice(6, n, p=_SIZE_P["urban"])) + 1
    tags = _tags(rng, hr)
    alone = tags[:, 0] | tags[:, 3]
    size[alone] = 1
    year0 = as_of.year
    age = np.where(alone, rng.integers(70, 95, n), rng.integers(26, 80, n))
    birth = (np.array([f"{year0}-01-01"], dtype="datetime64[D]") - age * 365
             - rng.integers(0, 365, n)).astype("datetime64[D]")
    surname = rng.choice(len(SURNAMES), size=n, p=_SURNAME_P)
    cluster_name = _cluster_names(rng, rural[cgrid])
    address = _addresses(rng, grids, town_names, grid, cluster, cluster_name, hr)
    tag_text = [""] * n
    for i in np.flatnonzero(tags.any(axis=1)).tolist():
        tag_text[i] = ",".join(t for t, on in zip(HOUSEHOLD_TAGS, tags[i], strict=True) if on)
    return Households(
        grid=grid, cluster=cluster, lon=lon, lat=lat, size=size,
        head_name=names(rng, n, surname), head_surname=surname, head_birth=birth,
        phone=phones(rng, n), id_number=id_numbers(rng, birth), address=address, tags=tag_text,
        cluster_grid=cgrid, cluster_name=cluster_name,
    )


def _cluster_names(rng: np.random.Generator, rural: np.ndarray) -> list[str]:
    """Natural-village names (沈家浜) in the countryside, estate names (紫阳花园) in town."""
    n = len(rural)
    sur = np.array(SURNAMES)[rng.choice(len(SURNAMES), size=n, p=_SURNAME_P)]
    suf = np.array(_VILLAGE_SUFFIX)[rng.integers(len(_VILLAGE_SUFFIX), size=n)]
    village = np.char.add(np.char.add(sur, "家"), suf)
    a = np.array(_ESTATE_A)[rng.integers(len(_ESTATE_A), size=n)]
    b = np.array(_ESTATE_A)[rng.integers(len(_ESTATE_A), size=n)]
    c = np.array(_ESTATE_B)[rng.integers(len(_ESTATE_B), size=n)]
    estate = np.char.add(np.char.add(a, b), c)
    return np.where(rural, village, estate).tolist()


def _addresses(rng, grids: GridPlan, town_names, grid, cluster, cluster_name, rural) -> list[str]:
    """Postal-style addresses: village + natural village + number, or estate + building/room."""
    n = len(grid)
    no = rng.integers(1, 200, n)
    bld, unit = rng.integers(1, 40, n), rng.integers(1, 5, n)
    room = rng.integers(1, 19, n) * 100 + rng.integers(1, 5, n)
    town = np.array(town_names)[grids.town[grid]]
    village = np.array(grids.village)[grid]
    cname = np.array(cluster_name)[cluster]
    return [
        f"嘉兴市南湖区{t}{v}{c}{k}号" if r else f"嘉兴市南湖区{t}{v}{c}{b}幢{u}单元{m}室"
        for t, v, c, k, b, u, m, r in zip(
            town.tolist(), village.tolist(), cname.tolist(), no.tolist(), bld.tolist(),
            unit.tolist(), room.tolist(), rural.tolist(), strict=True,
        )
    ]


@dataclass
class Members:
    household: np.ndarray
    name: np.ndarray
    relation: np.ndarray
    birth_year: np.ndarray


def make_members(hh: Households, as_of: dt.date, rng: np.random.Generator) -> Members:
    """One row per person: head, spouse, children and parents (or grandchildren) by size."""
    household = np.repeat(np.arange(len(hh.size)), hh.size)
    first = np.concatenate([[0], np.cumsum(hh.size)[:-1]])
    pos = np.arange(len(household)) - first[household]
    table = np.full((7, 6), "", dtype="<U8")
    for s, rel in _RELATIONS.items():
        table[s, : len(rel)] = rel
    relation = table[hh.size[household], pos]
    head_year = hh.head_birth.astype("datetime64[Y]").astype(int)[household] + 1970
    n = len(household)
    offset = np.select(
        [relation == "head", relation == "spouse", relation == "child"],
        [0, rng.integers(-4, 5, n), rng.integers(22, 36, n)],
        default=-rng.integers(22, 32, n),
    )
    # heads over 55 live with grandchildren rather than with parents
    old_head = (relation == "parent") & (head_year < as_of.year - 55)
    relation = np.where(old_head, "grandchild", relation)
    offset = np.where(old_head, rng.integers(45, 60, n), offset)
    birth_year = np.clip(head_year + offset, as_of.year - 98, as_of.year - 1)
    same = np.isin(relation, ("head", "child", "grandchild")) | ((relation == "parent") & (pos % 2 == 0))
    surname = np.where(same, hh.head_surname[household], rng.choice(len(SURNAMES), size=n, p=_SURNAME_P))
    name = names(rng, n, surname)
    name[relation == "head"] = hh.head_name
    return Members(household=household, name=name, relation=relation, birth_year=birth_year)
