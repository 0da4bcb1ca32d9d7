"""AppTest of the overview on the hand-made KPI district: every number against a hand count."""

from __future__ import annotations

import datetime as dt

from streamlit.testing.v1 import AppTest

from tests.conftest import APP
from tests.kpi_world import EXPECTED
from tests.pages.conftest import kpi_app

HEADLINE = {  # label on screen -> what it shows for the district, 1-20 November 2026
    "发放民情日记": "1", "日记条目": "3", "解决问题": "3", "排查隐患": "1", "在办事项": "4",
    "超期事项": "2", "按期办结率": "40.0%", "应结案事项": "5", "办结率": "60.0%",
    "延期率": "20.0%", "满意率": "75.0%", "化解隐患": "1", "走访覆盖率": "33.3%",
    "30天无日记网格": "1",
}


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_counters_show_the_hand_counted_values(kpi_world):
    at = kpi_app()
    at.run()
    assert not at.exception
    assert _metrics(at) == HEADLINE
    assert any("示例数据" in c.value for c in at.caption)


def test_every_number_carries_its_definition(kpi_world):
    at = kpi_app()
    at.run()
    helps = {m.label: m.help for m in at.metric}
    assert helps["按期办结率"] == "应结案事项中在期限当天或之前销号的比例。"
    assert all(helps.values())


def test_town_table_lists_every_town_with_a_link(kpi_world):
    at = kpi_app()
    at.run()
    frame = at.dataframe[0].value
    assert list(frame["镇街"]) == ["甲镇", "乙街道"]
    assert list(frame["在办事项"]) == [3, 1]
    assert list(frame["按期办结率"]) == [50.0, 0.0]
    ids = kpi_world.ids
    assert list(frame["链接"]) == [f"./map?town={ids['T1']}&lang=zh",
                                 f"./map?town={ids['T2']}&lang=zh"]


def test_town_picker_scopes_the_counters(kpi_world):
    at = kpi_app()
    at.run()
    at.sidebar.selectbox[0].select(kpi_world.ids["T2"]).run()
    assert list(at.dataframe[0].value["镇街"]) == ["乙街道"]
    shown = _metrics(at)
    assert shown["在办事项"] == str(EXPECTED["乙街道"]["open_cases"])
    assert shown["走访覆盖率"] == "—"  # no households: no rate, not 0 %


def test_the_period_changes_the_counts(kpi_world):
    at = kpi_app()
    at.run()
    at.date_input(key="overview_period").set_value((dt.date(2026, 10, 1), dt.date(2026, 10, 31)))
    at.run()
    shown = _metrics(at)  # October: e3 and e5 written, c5 due and closed on time
    assert (shown["日记条目"], shown["应结案事项"], shown["按期办结率"]) == ("2", "1", "100.0%")
    assert shown["在办事项"] == "4"  # as of today, whatever the period


def test_english_switch(kpi_world):
    at = kpi_app()
    at.run()
    at.sidebar.radio[0].set_value("en").run()
    assert at.title[0].value == "District at a glance"
    assert _metrics(at)["On-time closure rate"] == "40.0%"


def test_deep_link_selects_the_town(kpi_world):
    at = kpi_app(town=str(kpi_world.ids["T1"]))
    at.run()
    assert list(at.dataframe[0].value["镇街"]) == ["甲镇"]


def test_missing_database_shows_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setenv("MINQING_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert "make run" in at.warning[0].value



def test_a_deadline_in_an_uncovered_year_shows_the_calendar_banner(kpi_world):
    from minqing.models import Case
    from minqing.store import get_engine, session_scope

    at = kpi_app()
    at.run()
    assert not [w for w in at.warning if "工作日历" in w.value]
    with session_scope(get_engine(kpi_world.url)) as s:  # a case now due in January 2027
        s.get(Case, kpi_world.ids["c4"]).deadline = dt.date(2027, 1, 8)
    at.run()
    (banner,) = [w.value for w in at.warning if "工作日历" in w.value]
    assert "2027" in banner
