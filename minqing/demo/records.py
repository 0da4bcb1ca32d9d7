"""Two years of service-diary entries, and the practical services done for households.

Proportions follow the source systems: demands are the most common record, then risks (矛盾隐患),
village development and organisation; receptions (门诊) and house calls (出诊) on Wednesdays bring
in most entries. Risks cluster in a tenth of the grids and a few grids fall silent for two months
or more, so that the map's hot-spot layers have something to show. Cases raised from the entries
are in :mod:`minqing.demo.cases`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from minqing.demo import texts
from minqing.demo.geography import GridPlan
from minqing.demo.groups import Cadres
from minqing.demo.people import Households, names

DAYS = 730  # two years of records end at as_of
KINDS = ("demand", "risk", "development", "organisation")
SOURCES = ("reception", "house_call", "consultation", "follow_up", "notice_board", "mailbox",
           "contact_card", "weekly_visit", "monthly_analysis", "service_team", "deputies")
# P(source | kind), columns in SOURCES order; receptions and house calls dominate
_SOURCE_P = {
    "demand":       (.32, .285, .03, .04, .03, .06, .07, .10, .00, .06, .005),
    "risk":         (.20, .30, .10, .08, .00, .04, .03, .15, .07, .03, .00),
    "development":  (.12, .275, .05, .00, .00, .00, .00, .15, .25, .15, .005),
    "organisation": (.12, .325, .00, .10, .00, .00, .00, .25, .20, .00, .005),
}
_TEMPLATES = {"demand": texts.DEMAND, "risk": texts.RISK, "development": texts.DEVELOPMENT,
              "organisation": texts.ORGANISATION}


@dataclass
class Diary:
    grid: np.ndarray
    cadre: np.ndarray
    household: np.ndarray  # -1 = none
    date: np.ndarray  # datetime64[D]
    kind: np.ndarray
    source: np.ndarray
    risk_level: np.ndarray
    received: np.ndarray  # -1 = none
    opinions: np.ndarray
    minute: np.ndarray  # minutes after midnight of created_at
    text: list[str]
    title: list[str]
    place: list[str]


def _household_in_grid(hh: Households, grid: np.ndarray, rng) -> np.ndarray:
    """A random household of each given grid (households are stored sorted by grid)."""
    counts = np.bincount(hh.grid, minlength=grid.max() + 1)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return start[grid] + (rng.random(len(grid)) * counts[grid]).astype(int)


def _dates(as_of: dt.date, days_back: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Entry dates: receptions and house calls on Wednesdays, nothing else on weekends."""
    date = np.datetime64(as_of, "D") - days_back
    wd = (date.astype(int) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    wednesday = np.isin(source, ("reception", "house_call"))
    back = np.where(wednesday, (wd - 2) % 7, np.where(wd >= 5, wd - 4, 0))
    return date - back


def make_diary(grids: GridPlan, hh: Households, cadres: Cadres, n: int, as_of: dt.date,
               rng: np.random.Generator) -> Diary:
    """``n`` diary entries over the two years ending at ``as_of``, sorted by date."""
    n_grid = len(grids.code)
    per_grid = np.bincount(hh.grid, minlength=n_grid)
    activity = per_grid * np.maximum(rng.gamma(6.0, 1 / 6.0, n_grid), 0.5)
    grid = np.sort(rng.choice(n_grid, size=n, p=activity / activity.sum()))
    hot = np.zeros(n_grid, dtype=bool)
    hot[rng.choice(n_grid, size=max(1, round(0.1 * n_grid)), replace=False)] = True
    p_risk = np.where(hot, 0.6, 0.18)[grid]  # ~22% of entries overall, a third in hot grids
    u = rng.random(n)
    rest = (u - p_risk) / (1 - p_risk)
    kind = np.where(u < p_risk, "risk",
                    np.where(rest < 0.60, "demand",
                             np.where(rest < 0.82, "development", "organisation")))
    source = np.empty(n, dtype="<U16")
    for k in KINDS:
        idx = np.flatnonzero(kind == k)
        source[idx] = np.array(SOURCES)[rng.choice(len(SOURCES), size=len(idx), p=_SOURCE_P[k])]
    days_back = _silence(grid, n_grid, rng.integers(0, DAYS, n), rng)
    date = _dates(as_of, days_back, source)
    cadre = _writers(grids, cadres, grid, rng)
    household = _household_in_grid(hh, grid, rng)
    with_hh = np.isin(kind, ("demand", "risk")) & (rng.random(n) < 0.95) | (rng.random(n) < 0.3)
    household = np.where(with_hh, household, -1)
    risk_p = np.where(hot[grid][:, None], [[.45, .35, .20]], [[.62, .29, .09]])
    level = 1 + (rng.random(n)[:, None] > np.cumsum(risk_p, axis=1)[:, :2]).sum(1)
    risk_level = np.where(kind == "risk", level, 0)
    deputies = source == "deputies"
    # the source district's deputies received 1,078 people and took 799 opinions in all
    received = np.where(deputies, rng.integers(1, 7, n), -1)
    opinions = np.where(deputies, rng.binomial(np.maximum(received, 0), 0.74), -1)
    minute = rng.integers(8 * 60, 18 * 60, n)
    order = np.lexsort((grid, date))
    d = Diary(grid[order], cadre[order], household[order], date[order], kind[order],
              source[order], risk_level[order], received[order], opinions[order], minute[order],
              [], [], [])
    _write_texts(d, grids, hh, rng)
    return d


def _silence(grid: np.ndarray, n_grid: int, days_back: np.ndarray, rng) -> np.ndarray:
    """Push a percent of grids' recent entries back so that they have been silent 60–120 days."""
    silent = rng.choice(n_grid, size=max(1, round(0.01 * n_grid)), replace=False)
    quiet = np.zeros(n_grid, dtype=int)
    quiet[silent] = rng.integers(60, 121, len(silent))
    q = quiet[grid]
    moved = days_back < q
    return np.where(moved, q + (rng.random(len(grid)) * (DAYS - q)).astype(int), days_back)


def _writers(grids: GridPlan, cadres: Cadres, grid: np.ndarray, rng) -> np.ndarray:
    """Who wrote each entry: mostly the grid's liaison cadre, sometimes a paired cadre."""
    n = len(grid)
    cadre = cadres.grid_leader[grid].copy()
    u = rng.random(n)
    town = grids.town[grid]
    for t, pool in cadres.paired["town"].items():
        idx = np.flatnonzero((town == t) & (u < 0.10))
        cadre[idx] = np.array(pool)[rng.integers(len(pool), size=len(idx))]
    district = np.array(cadres.paired["district"][None])
    idx = np.flatnonzero(u > 0.95)
    cadre[idx] = district[rng.integers(len(district), size=len(idx))]
    return cadre


def _write_texts(d: Diary, grids: GridPlan, hh: Households, rng) -> None:
    """Fill each entry's text (and, for demands and risks, a case title) from the templates."""
    n = len(d.grid)
    pick, word = rng.random(n), rng.random(n)
    nums, nums2 = rng.integers(5, 120, n), rng.integers(1, 12, n)
    crops = rng.integers(len(texts.CROPS), size=n)
    other = names(rng, n).tolist()
    head = hh.head_name.tolist()
    cluster_name = hh.cluster_name
    village = grids.village
    usable = {(k, kind): [t for t in tpls if t[3] in ("", kind)]
              for k, tpls in _TEMPLATES.items() for kind in ("rural", "urban")}
    grid_kind = grids.kind.tolist()
    for i, (k, g, h) in enumerate(zip(d.kind.tolist(), d.grid.tolist(), d.household.tolist(),
                                      strict=True)):
        tpl = usable[k, grid_kind[g]]
        title, text, words, _ = tpl[int(pick[i] * len(tpl))]
        place = cluster_name[hh.cluster[h]] if h >= 0 else village[g]
        d.text.append(text.format(
            name=head[h] if h >= 0 else other[i], place=place, village=village[g],
            w=words[int(word[i] * len(words))], n=int(nums[i]), m=int(nums2[i]),
            crop=texts.CROPS[crops[i]],
        ))
        d.title.append(title)
        d.place.append(place)


def household_services(hh: Households, cadres: Cadres, as_of: dt.date, rng) -> dict[str, list]:
    """~5 practical services per 100 households per year (服务代理), done by the grid's cadre."""
    n = round(len(hh.grid) * 0.05 * DAYS / 365)
    household = np.sort(rng.choice(len(hh.grid), size=n, replace=True))
    day = np.datetime64(as_of, "D") - rng.integers(0, DAYS, n)
    what = rng.integers(len(texts.SERVICES), size=n)
    return {
        "household": household,
        "cadre": cadres.grid_leader[hh.grid[household]],
        "done_on": day,
        "description": [texts.SERVICES[k] for k in what.tolist()],
    }
