"""A hand-made district whose KPIs are worked out by hand below, for the KPI and page tests.

Two towns: 甲镇 (grids G1, G2 in one area) and 乙街道 (grid G3). Today is 2026-11-20 and the
period is 1-20 November 2026. Every expected value in :data:`EXPECTED` was counted from the
records listed here, not computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shapely.geometry import MultiPolygon, Point, box

from minqing.models import (
    Area,
    Cadre,
    Case,
    CaseEvent,
    DiaryEntry,
    DiaryReview,
    Grid,
    Household,
    ServiceGroup,
    Town,
)
from minqing.store import get_engine, session_scope

TODAY = dt.date(2026, 11, 20)
SINCE = dt.date(2026, 11, 1)


def D(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


# entries: name -> (cadre, grid, date, kind, household or None, people received, opinions)
ENTRIES = {
    "e1": ("K1", "G1", D(11, 5), "demand", "H1", None, None),
    "e2": ("K1", "G1", D(11, 10), "risk", "H1", None, None),
    "e3": ("K2", "G2", D(10, 15), "risk", "H3", None, None),  # before the period
    "e4": ("K1", "G2", D(11, 20), "demand", None, 12, 5),  # K1 writes in G2 too (deputies)
    "e5": ("K3", "G3", D(10, 21), "risk", None, None, None),  # 30 days before today: G3 silent
}
# cases: name -> (grid, entry, status, opened, deadline, closed, satisfaction, is_risk, actions)
CASES = {
    # closed on time in the period: falls due 11-08
    "c1": ("G1", "e1", "closed", D(11, 1), D(11, 10), D(11, 8), "satisfied", False, []),
    # closed late in the period, after a consultation gave it a new deadline: falls due 11-03
    "c2": ("G1", "e2", "closed", D(10, 20), D(11, 3), D(11, 6), "basically_satisfied", True,
           ["escalate", "assign"]),
    # reopened and now overdue (deadline 11-12): due, not closed
    "c3": ("G1", None, "handling", D(11, 2), D(11, 12), None, None, False, ["reopen"]),
    # open, not yet due
    "c4": ("G2", "e4", "handling", D(11, 18), D(11, 25), None, None, False, []),
    # closed on time in October: due in October, not in the period
    "c5": ("G2", "e3", "closed", D(10, 15), D(10, 25), D(10, 20), "satisfied", True, []),
    # waiting for closure after an unsatisfied resident; overdue since 11-19
    "c6": ("G3", "e5", "feedback", D(11, 2), D(11, 19), None, "unsatisfied", True, []),
    # closed early: falls due on its closing day 11-19 although its deadline is in December
    "c7": ("G1", None, "closed", D(11, 15), D(12, 10), D(11, 19), "satisfied", False, []),
    # due today: open but not overdue, not yet due
    "c8": ("G2", None, "handling", D(11, 10), TODAY, None, None, False, []),
}

EXPECTED = {
    # the whole district over the period
    None: {
        "households": 3, "grids": 3,
        "diaries_issued": 1,  # only K1 wrote in November
        "diary_entries": 3, "people_received": 12, "opinions_taken": 5,
        "risks_found": 1,  # e2
        "risks_resolved": 1,  # c2
        "cases_opened": 6,  # c1 c3 c4 c6 c7 c8
        "problems_solved": 3,  # c1 c2 c7
        "open_cases": 4,  # c3 c4 c6 c8
        "overdue_cases": 2,  # c3 c6
        "cases_due": 5,  # c1 c2 c3 c6 c7
        "closure_rate": 3 / 5, "on_time_rate": 2 / 5,  # c1 c7 on time
        "extension_rate": 1 / 5, "rework_rate": 1 / 5,  # c2, c3
        "satisfaction_rate": 3 / 4,  # c1 c2 c7 of c1 c2 c6 c7
        "visit_coverage": 1 / 3,  # H1 of H1 H2 H3
        "silent_grids": 1,  # G3
        "late_cases": 3,  # c2 closed late, c3 and c6 not closed
        "reviews_passed": 1,  # e1 passed; e2 sent back; e3 passed but written in October
    },
    "甲镇": {"households": 3, "grids": 2, "diary_entries": 3, "cases_opened": 5,
            "problems_solved": 3, "open_cases": 3, "overdue_cases": 1, "cases_due": 4,
            "closure_rate": 3 / 4, "on_time_rate": 2 / 4, "silent_grids": 0},
    "乙街道": {"households": 0, "grids": 1, "diary_entries": 0, "cases_opened": 1,
             "problems_solved": 0, "open_cases": 1, "overdue_cases": 1, "cases_due": 1,
             "closure_rate": 0.0, "on_time_rate": 0.0, "satisfaction_rate": 0.0,
             "visit_coverage": None, "silent_grids": 1},
}


@dataclass(frozen=True)
class KpiWorld:
    url: str
    ids: dict[str, int]  # name (T1, T2, A1, A2, G1.., K1.., H1.., e1.., c1..) -> id


def build_kpi_world(url: str) -> KpiWorld:
    ids: dict[str, int] = {}
    with session_scope(get_engine(url)) as s:
        towns = {"T1": Town(code="T1", name="甲镇", kind="town",
                            geom=MultiPolygon([box(120, 30, 120.2, 30.1)])),
                 "T2": Town(code="T2", name="乙街道", kind="subdistrict",
                            geom=MultiPolygon([box(120.2, 30, 120.3, 30.1)]))}
        s.add_all(towns.values())
        s.flush()
        areas = {"A1": Area(town_id=towns["T1"].id, name="东片", head_name="王片长"),
                 "A2": Area(town_id=towns["T2"].id, name="西片", head_name="刘片长")}
        s.add_all(areas.values())
        s.flush()
        place = {"G1": ("T1", "A1", 0), "G2": ("T1", "A1", 1), "G3": ("T2", "A2", 2)}
        grids = {g: Grid(code=g, name=f"网格{g}", town_id=towns[t].id, area_id=areas[a].id,
                         kind="rural", geom=box(120 + i / 10, 30, 120.1 + i / 10, 30.1))
                 for g, (t, a, i) in place.items()}
        s.add_all(grids.values())
        cadres = {k: Cadre(name=f"干部{k}", phone="13800000000", level="village",
                           town_id=towns["T1"].id, unit="村委") for k in ("K1", "K2", "K3")}
        s.add_all(cadres.values())
        s.flush()
        for k, g in (("K1", "G1"), ("K2", "G2"), ("K3", "G3")):
            s.add(ServiceGroup(grid_id=grids[g].id, leader_cadre_id=cadres[k].id, lon=120.05,
                               lat=30.05))
        homes = {h: Household(code=h, grid_id=grids[g].id, town_id=grids[g].town_id,
                              head_name=f"张{h}", phone="13900000000", id_number="0" * 18,
                              address="一号", size=2, lon=120.05, lat=30.05,
                              geom=Point(120.05, 30.05))
                 for h, g in (("H1", "G1"), ("H2", "G1"), ("H3", "G2"))}
        s.add_all(homes.values())
        s.flush()
        entries = {}
        for name, (k, g, day, kind, h, people, opinions) in ENTRIES.items():
            entries[name] = DiaryEntry(
                grid_id=grids[g].id, town_id=grids[g].town_id, cadre_id=cadres[k].id,
                household_id=homes[h].id if h else None, entry_date=day, kind=kind,
                source="deputies" if people else "house_call", text=name,
                people_received=people, opinions_taken=opinions,
                created_at=dt.datetime.combine(day, dt.time(9)))
        s.add_all(entries.values())
        s.flush()
        cases = {}
        for name, (g, e, status, opened, deadline, closed, sat, risk, _) in CASES.items():
            cases[name] = Case(
                code=name, grid_id=grids[g].id, town_id=grids[g].town_id,
                diary_entry_id=entries[e].id if e else None, title=name, track="promised",
                status=status, opened_on=opened, deadline=deadline, closed_on=closed,
                satisfaction=sat, is_risk=risk, responsible="干部")
        s.add_all(cases.values())
        s.flush()
        for name, spec in CASES.items():
            for action in ["open", *spec[-1]]:
                s.add(CaseEvent(case_id=cases[name].id, at=dt.datetime(2026, 11, 1, 9),
                                actor="干部", action=action, comment="", data="{}"))
        # weekly reviews: e1 passed, e2 sent back (not passed), e3 passed (written in October)
        for name, outcome in (("e1", "passed"), ("e2", "returned"), ("e3", "passed")):
            e = entries[name]
            s.add(DiaryReview(entry_id=e.id, town_id=e.town_id, grid_id=e.grid_id,
                              reviewer="王片长", outcome=outcome, comment="补充",
                              reviewed_on=TODAY, reviewed_at=dt.datetime(2026, 11, 20, 9)))
        for group in (towns, areas, grids, cadres, homes, entries, cases):
            ids.update({name: row.id for name, row in group.items()})
    return KpiWorld(url=url, ids=ids)
