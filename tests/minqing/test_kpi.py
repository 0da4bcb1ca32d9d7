"""KPIs on the hand-made district of tests/kpi_world.py, against values counted by hand."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from minqing import kpi
from minqing.scope import Scope
from minqing.store import get_engine
from tests.kpi_world import EXPECTED, SINCE, TODAY, KpiWorld, build_kpi_world

ALL = Scope.district()


@pytest.fixture
def world(db_url) -> KpiWorld:
    return build_kpi_world(db_url)


def _same(actual: float, expected: float | None) -> bool:
    if expected is None:
        return math.isnan(actual)
    return math.isclose(actual, expected)


def test_every_kpi_over_the_period(world):
    values = kpi.headline(get_engine(world.url), scope=ALL, since=SINCE, until=TODAY, today=TODAY)
    expected = EXPECTED[None]
    assert set(expected) == set(kpi.KPIS), "every KPI has a hand-counted value"
    wrong = {k: (values[k], v) for k, v in expected.items() if not _same(values[k], v)}
    assert wrong == {}


@pytest.mark.parametrize("town", ["甲镇", "乙街道"])
def test_by_town_and_a_town_scope_agree_with_hand_counts(world, town):
    engine = get_engine(world.url)
    table = kpi.town_table(engine, scope=ALL, kpis=list(EXPECTED[town]), since=SINCE,
                           until=TODAY, today=TODAY)
    assert list(table["name"]) == ["甲镇", "乙街道"]
    row = table.set_index("name").loc[town]
    town_id = world.ids["T1" if town == "甲镇" else "T2"]
    scoped = kpi.headline(engine, scope=Scope.town(town_id), kpis=list(EXPECTED[town]),
                          since=SINCE, until=TODAY, today=TODAY)
    for key, value in EXPECTED[town].items():
        assert _same(row[key], value), (key, row[key], value)
        assert _same(scoped[key], value), (key, scoped[key], value)


def test_by_grid_area_and_cadre(world):
    engine = get_engine(world.url)
    ids = world.ids
    kw = {"since": SINCE, "until": TODAY, "today": TODAY}
    grids = kpi.evaluate(engine, scope=ALL, by="grid", kpis=["diary_entries", "silent_grids"], **kw)
    assert grids["diary_entries"].to_dict() == {ids["G1"]: 2, ids["G2"]: 1, ids["G3"]: 0}
    assert grids["silent_grids"].to_dict() == {ids["G1"]: 0, ids["G2"]: 0, ids["G3"]: 1}
    areas = kpi.evaluate(engine, scope=ALL, by="area", kpis=["open_cases"], **kw)
    assert areas["open_cases"].to_dict() == {ids["A1"]: 3, ids["A2"]: 1}
    cadres = kpi.evaluate(engine, scope=ALL, by="cadre", **kw,
                          kpis=["diary_entries", "cases_due", "on_time_rate", "households",
                                "silent_grids"])
    k1, k2, k3 = (cadres.loc[ids[k]] for k in ("K1", "K2", "K3"))
    # cases count for the writer of their entry: K1 has c1 (on time) and c2 (late) due
    assert (k1.diary_entries, k1.cases_due, k1.on_time_rate, k1.households) == (3, 2, 0.5, 2)
    assert (k2.diary_entries, k2.cases_due, k2.households) == (0, 0, 1)
    assert math.isnan(k2.on_time_rate)
    assert (k3.cases_due, k3.on_time_rate, k3.silent_grids) == (1, 0.0, 1)
    assert cadres.loc[ids["K1"], "name"] == "干部K1"


def test_a_period_without_the_cases_due_shows_the_empty_mark(world):
    engine = get_engine(world.url)
    values = kpi.headline(engine, scope=ALL, kpis=["cases_due", "on_time_rate"],
                          since=dt.date(2026, 1, 1), until=dt.date(2026, 1, 31), today=TODAY)
    assert values["cases_due"] == 0
    assert kpi.KPIS["on_time_rate"].show(values["on_time_rate"]) == "—"
    assert kpi.KPIS["on_time_rate"].show(0.4) == "40.0%"
    assert kpi.KPIS["diary_entries"].show(1234) == "1,234"


def test_each_case_falls_due_in_one_month_only(world):
    """October holds c5 (closed on time on 10-20); November the five cases due in the period."""
    trend = kpi.trend(get_engine(world.url), scope=ALL, months=3, today=TODAY,
                      kpis=["cases_due", "on_time_rate", "diary_entries", "risks_found"])
    assert list(trend.index) == ["2026-09", "2026-10", "2026-11"]
    assert trend["cases_due"].tolist() == [0, 1, 5]
    assert trend.loc["2026-10", "on_time_rate"] == 1.0
    assert trend.loc["2026-11", "on_time_rate"] == 2 / 5
    assert trend["diary_entries"].tolist() == [0, 2, 3]  # e3 e5 in October
    assert trend["risks_found"].tolist() == [0, 2, 1]


def test_a_snapshot_kpi_has_no_trend(world):
    with pytest.raises(ValueError, match="as of today"):
        kpi.trend(get_engine(world.url), scope=ALL, kpis=["open_cases"], today=TODAY)


def test_the_map_counters_use_the_same_definitions(world):
    engine = get_engine(world.url)
    ids = world.ids
    counters = kpi.grid_counters(engine, scope=ALL, today=TODAY)
    assert counters["open_cases"].to_dict() == {ids["G1"]: 1, ids["G2"]: 2, ids["G3"]: 1}
    assert counters["overdue_cases"].to_dict() == {ids["G1"]: 1, ids["G2"]: 0, ids["G3"]: 1}
    assert counters.loc[ids["G3"], "days_since_diary"] == 30
    totals = kpi.grid_headline(counters)
    assert (totals["open_cases"], totals["overdue_cases"], totals["silent_grids"]) == (4, 2, 1)
    assert totals["risks_90d"] == 3  # e2 e3 e5, all within 90 days


def test_every_kpi_has_a_label_and_a_definition_in_both_languages():
    from minqing.i18n import CATALOGUE

    for key, definition in kpi.KPIS.items():
        assert definition.key == key
        assert f"kpi.{key}" in CATALOGUE
        assert f"kpi.{key}.help" in CATALOGUE
        for name in (definition.numerator, definition.denominator):
            assert name is None or name in kpi.MEASURES
        clash = key in kpi.MEASURES and not (definition.numerator == key and not definition.is_rate)
        assert not clash, f"KPI {key} would overwrite the measure of the same name"
