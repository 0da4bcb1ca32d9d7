"""Headline counters on a handful of records whose right answers are known."""

from __future__ import annotations

import datetime as dt

from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import select

from minqing.kpi import headline, town_table
from minqing.models import Area, Cadre, Case, DiaryEntry, Grid, Household, Town
from minqing.scope import Scope
from minqing.store import get_engine, session_scope

TODAY = dt.date(2026, 11, 20)


def _seed(session) -> int:
    town = Town(code="T1", name="甲镇", kind="town", geom=MultiPolygon([box(0, 0, 1, 1)]))
    other = Town(code="T2", name="乙街道", kind="subdistrict", geom=MultiPolygon([box(1, 0, 2, 1)]))
    session.add_all([town, other])
    session.flush()
    area = Area(town_id=town.id, name="一片", head_name="片长")
    session.add(area)
    session.flush()
    grid = Grid(code="G1", name="网格1", town_id=town.id, area_id=area.id, kind="rural",
                geom=box(0, 0, 1, 1))
    cadre = Cadre(name="干部", phone="1", level="village", town_id=town.id, unit="村委")
    session.add_all([grid, cadre])
    session.flush()
    session.add(Household(code="H1", grid_id=grid.id, town_id=town.id, head_name="户主",
                          phone="1", id_number="1", address="a", size=2, lon=0.5, lat=0.5,
                          geom=Point(0.5, 0.5)))
    for kind in ("demand", "risk", "risk"):
        session.add(DiaryEntry(grid_id=grid.id, town_id=town.id, cadre_id=cadre.id,
                               entry_date=TODAY, kind=kind, source="reception", text="t",
                               created_at=dt.datetime(2026, 11, 20)))
    cases = [  # (status, deadline offset, closed offset)
        ("closed", -10, -12),  # closed on time
        ("closed", -10, -5),  # closed late
        ("handling", -1, None),  # overdue
        ("handling", 5, None),  # open, not yet due
    ]
    for n, (status, due, closed) in enumerate(cases):
        session.add(Case(code=f"C{n}", grid_id=grid.id, town_id=town.id, title="诉求", track="promised",
                         status=status, opened_on=TODAY - dt.timedelta(days=30),
                         deadline=TODAY + dt.timedelta(days=due), responsible="干部",
                         closed_on=None if closed is None else TODAY + dt.timedelta(days=closed)))
    return town.id


def test_town_table_and_headline(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        town_id = _seed(session)
    table = town_table(engine, scope=Scope.district(), today=TODAY)
    assert list(table["name"]) == ["甲镇", "乙街道"]
    row = table.iloc[0]
    assert (row.grids, row.households, row.diary_entries, row.risks) == (1, 1, 3, 2)
    assert (row.solved, row.open, row.overdue) == (2, 2, 1)
    # due = 2 closed + 1 overdue; on time = 1
    assert row.on_time_rate == 1 / 3
    assert table.iloc[1].grids == 0
    totals = headline(engine, scope=Scope.district(), today=TODAY)
    assert totals["diaries"] == 1
    assert totals["closure_rate"] == 0.5
    scoped = town_table(engine, scope=Scope.town(town_id + 1), today=TODAY)
    assert list(scoped["name"]) == ["乙街道"]
    assert headline(engine, scope=Scope.town(town_id + 1), today=TODAY)["open"] == 0


def test_monthly_trend_counts_by_month(db_url):
    from minqing.kpi import monthly_trend

    engine = get_engine(db_url)
    with session_scope(engine) as session:
        _seed(session)
    trend = monthly_trend(engine, scope=Scope.district(), months=3, today=TODAY)
    assert list(trend.index) == ["2026-09", "2026-10", "2026-11"]
    assert trend.loc["2026-11", "diary_entries"] == 3
    assert trend.loc["2026-11", "risks"] == 2
    assert trend.loc["2026-10", "cases"] == 4  # all four opened 30 days before 20 November
    assert trend.loc["2026-09"].sum() == 0


def test_a_cadre_writing_in_two_towns_is_one_diary(db_url):
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        town_id = _seed(session)
        other = town_id + 1
        area = Area(town_id=other, name="二片", head_name="片长")
        session.add(area)
        session.flush()
        grid = Grid(code="G2", name="网格2", town_id=other, area_id=area.id, kind="urban",
                    geom=box(1, 0, 2, 1))
        session.add(grid)
        session.flush()
        cadre_id = session.scalar(select(Cadre.id))
        session.add(DiaryEntry(grid_id=grid.id, town_id=other, cadre_id=cadre_id,
                               entry_date=TODAY, kind="demand", source="house_call", text="t",
                               created_at=dt.datetime(2026, 11, 20)))
    table = town_table(engine, scope=Scope.district(), today=TODAY)
    assert table["diaries"].sum() == 2  # one per town ...
    assert headline(engine, scope=Scope.district(), today=TODAY)["diaries"] == 1  # ... one diary
