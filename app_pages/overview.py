"""District at a glance: the headline KPIs over a period, one row per town, the monthly trend."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

import ui
from minqing.clock import today
from minqing.kpi import KPIS, headline, town_table, trend
from minqing.links import town_map_url
from ui.kpis import metrics, period, table_columns
from ui.notices import calendar_banner

HEADLINE = ("diaries_issued", "diary_entries", "problems_solved", "risks_found", "open_cases",
            "overdue_cases", "on_time_rate")
RATES = ("cases_due", "closure_rate", "extension_rate", "satisfaction_rate", "risks_resolved",
         "visit_coverage", "silent_grids")
TOWN_COLUMNS = ("grids", "households", "diary_entries", "problems_solved", "risks_found",
                "open_cases", "overdue_cases", "on_time_rate")
TREND = ("diary_entries", "risks_found", "cases_opened")


@st.cache_data(ttl=600, show_spinner=False)
def _totals(_engine, data_version: str, scope, since: dt.date, until: dt.date,
            day: dt.date) -> dict[str, float]:
    return headline(_engine, scope=scope, kpis=HEADLINE + RATES + ("grids", "households"),
                    since=since, until=until, today=day)


@st.cache_data(ttl=600, show_spinner=False)
def _table(_engine, data_version: str, scope, since: dt.date, until: dt.date,
           day: dt.date) -> pd.DataFrame:
    return town_table(_engine, scope=scope, kpis=TOWN_COLUMNS, since=since, until=until, today=day)


@st.cache_data(ttl=600, show_spinner=False)
def _trend(_engine, data_version: str, scope, day: dt.date) -> pd.DataFrame:
    return trend(_engine, scope=scope, kpis=TREND, today=day)


def _trend_chart(frame: pd.DataFrame) -> None:
    st.subheader(ui.t("overview.trend"))
    st.caption(ui.t("overview.trend_caption"))
    lang = ui.lang()
    st.line_chart(pd.DataFrame({KPIS[k].label(lang): frame[k] for k in TREND}), height=260)


def _town_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The per-town table as shown: translated kinds, the KPIs, and a deep link per town."""
    lang = ui.lang()
    values, config = table_columns(table, TOWN_COLUMNS)
    link = ui.t("col.link")
    config[link] = st.column_config.LinkColumn(display_text=ui.t("overview.town_link"))
    return pd.DataFrame({
        ui.t("col.town"): table["name"],
        ui.t("col.kind"): [ui.t(f"town_kind.{kind}") for kind in table["kind"]],
        **values,
        link: [town_map_url(town_id, lang=lang) for town_id in table["town_id"]],
    }), config


def page() -> None:
    st.title(ui.t("overview.title"))
    ui.demo_badge()
    day = today()
    st.caption(ui.t("overview.caption", today=day.isoformat()))
    calendar_banner()
    since, until = period("overview_period")
    engine, version, scope = ui.engine(), ui.version(), ui.current_scope()
    totals = _totals(engine, version, scope, since, until, day)
    metrics(totals, HEADLINE)
    metrics(totals, RATES)
    table = _table(engine, version, scope, since, until, day)
    st.subheader(ui.t("overview.by_town"))
    shown, config = _town_rows(table)
    st.dataframe(shown, hide_index=True, width="stretch", height=36 * (len(table) + 1) + 4,
                 column_config=config)
    _trend_chart(_trend(engine, version, scope, day))


page()
