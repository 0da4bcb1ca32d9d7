"""The synthetic demo district (示例数据): the real Nanhu outline, synthetic everything inside.

``build(url)`` generates the whole district in memory with numpy arrays, then swaps it in with one
transaction of driver-level bulk writes (see :mod:`minqing.demo.writer`): the full
135,000-household district takes well under the minute it is allowed, and a failed rebuild
leaves the old district in place. Everything is drawn from one seeded generator and no clock, so
the same seed and ``as_of`` give the same database, row for row.

Modules: :mod:`~minqing.demo.geography` (outline, towns, grids), :mod:`~minqing.demo.people`
(households, members, names, phones, ID numbers), :mod:`~minqing.demo.groups` (cadres, service
groups, pairings), :mod:`~minqing.demo.records` (diary, household services),
:mod:`~minqing.demo.cases` (cases and their histories), :mod:`~minqing.demo.texts` (Chinese
templates) and :mod:`~minqing.demo.writer`.

Examples
--------
>>> from minqing.demo import build
>>> build("sqlite:///data/demo.db", scale="small", seed=7)  # doctest: +SKIP
{'towns': 3, 'grids': 40, ...}
"""

from __future__ import annotations

import datetime as dt
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from tqdm import tqdm

from minqing import clock
from minqing.demo import geography, groups, people, records, supervision
from minqing.demo.accounts import write_demo_accounts
from minqing.demo.cases import make_cases
from minqing.demo.writer import clear, finish, has_district, write
from minqing.store import get_engine, upgrade

__all__ = ["GENERATOR_VERSION", "DemoExistsError", "build"]

GENERATOR_VERSION = "1"


class DemoExistsError(RuntimeError):
    """The database already holds a district; ``build(..., replace=True)`` drops it first."""


@dataclass(frozen=True)
class Scale:
    """How big a district to build."""

    urban_towns: int
    rural_towns: int
    urban_grids: int
    rural_grids: int
    paired: tuple[int, int, int]  # paired cadres: district, per town, village per town
    entries_per_household: float = 100_000 / 135_000


SCALES = {
    "full": Scale(7, 4, 600, 600, (110, 20, 30)),
    "small": Scale(1, 2, 20, 20, (8, 6, 6)),
}


def build(
    url: str,
    *,
    scale: Literal["full", "small"] = "full",
    seed: int = 2026,
    as_of: dt.date | None = None,
    replace: bool = False,
    progress: bool = True,
) -> dict[str, int | float]:
    """Build the demo district into the database at ``url``.

    Parameters
    ----------
    url : database URL (SQLite file or PostgreSQL + PostGIS); the schema is upgraded first.
    scale : "full" (the source district: 11 towns, 1,200 grids, ~135,000 households) or "small"
        (3 towns, 40 grids, ~4,000 households: for tests).
    seed : everything is drawn from ``numpy.random.default_rng(seed)``.
    as_of : the day the two years of records end (default: :func:`minqing.clock.today`).
    replace : drop the records already there; without it a non-empty database raises
        :class:`DemoExistsError`.
    progress : show a progress bar over the stages on stderr.

    Returns
    -------
    dict of counts (towns, grids, households, members, cadres, diary_entries, cases,
    case_events) and the seconds it took.
    """
    started = time.perf_counter()
    if scale not in SCALES:
        raise ValueError(f"scale must be 'full' or 'small', not {scale!r}")
    as_of = as_of or clock.today()
    upgrade(url)
    engine = get_engine(url)
    exists = DemoExistsError(
        f"{url} already holds a district; use --replace (replace=True) to rebuild it"
    )
    with engine.connect() as conn:
        if has_district(conn) and not replace:  # fail before any work
            raise exists
    bar = tqdm(total=11, desc="示例数据 demo", file=sys.stderr, disable=not progress, unit="step")
    step = _stepper(bar)
    was_enabled = gc.isenabled()
    gc.disable()  # millions of small objects: the cyclic collector would rescan them every batch
    try:
        data = _generate(SCALES[scale], scale, seed, as_of, step)
        # one transaction: the old district is only gone once the new one is in
        with engine.begin() as conn:
            step("clearing")
            if has_district(conn):
                if not replace:
                    raise exists
                clear(conn)
            step("writing")
            write(conn, **data)
            step("indexes")
            finish(conn)
            write_demo_accounts(conn)
        step("scores")
        supervision.publish_last_year(url, as_of)
        step("done")
    finally:
        bar.close()
        if was_enabled:
            gc.enable()
    summary: dict[str, int | float] = {
        "towns": len(data["towns"]), "grids": len(data["grids"].code),
        "households": len(data["hh"].grid), "members": len(data["members"].household),
        "cadres": len(data["cadres"].name), "diary_entries": len(data["diary"].grid),
        "cases": len(data["cases"].entry), "case_events": len(data["cases"].events),
        "reviews": len(data["history"].reviews), "meetings": len(data["history"].meetings),
        "verifications": len(data["history"].verifications),
    }
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary


def _generate(sc: Scale, scale: str, seed: int, as_of: dt.date,
              step: Callable[[str], None]) -> dict:
    """The whole district in memory, as the keyword arguments of :func:`writer.write`."""
    rng = np.random.default_rng(seed)
    step("towns")
    towns = geography.plan_towns(sc.urban_towns, sc.rural_towns, rng)
    town_names = [t.name for t in towns]
    step("grids")
    counts = geography.grid_counts(towns, sc.urban_grids, sc.rural_grids)
    grids = geography.plan_grids(towns, counts, rng)
    step("households")
    sizes = people.grid_sizes(grids.kind, rng)
    hh = people.make_households(grids, town_names, sizes, as_of, rng)
    members = people.make_members(hh, as_of, rng)
    step("service groups")
    cadres = groups.make_cadres(grids, town_names, sc.paired, rng)
    grp = groups.make_groups(grids, hh, cadres, rng)
    step("diary")
    diary = records.make_diary(grids, hh, cadres, round(len(hh.grid) * sc.entries_per_household),
                               as_of, rng)
    step("cases")
    cases = make_cases(diary, grids, cadres, as_of, town_names, rng)
    services = records.household_services(hh, cadres, as_of, rng)
    area_heads = people.names(rng, len(grids.area_names)).tolist()
    step("supervision")
    history = supervision.make_history(diary, grids, cases, as_of, area_heads, town_names, seed)
    info = {"demo": "1", "seed": str(seed), "scale": scale, "as_of": as_of.isoformat(),
            "built_at": f"{seed}-{scale}-{as_of.isoformat()}",
            "generator_version": GENERATOR_VERSION}
    return {"towns": towns, "grids": grids, "hh": hh, "members": members, "cadres": cadres,
            "groups": grp, "diary": diary, "cases": cases, "services": services, "info": info,
            "area_heads": area_heads, "history": history}


def _stepper(bar: tqdm) -> Callable[[str], None]:
    """Advance the bar one stage per call, naming the stage being worked on."""
    first = [True]

    def step(name: str) -> None:
        if not first[0]:
            bar.update(1)
        first[0] = False
        bar.set_postfix_str(name)

    return step
