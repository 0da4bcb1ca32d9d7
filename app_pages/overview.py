"""District at a glance: the headline counters and one row per town."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from minqing.clock import today
from minqing.kpi import headline, monthly_trend, town_table
from minqing.links import town_map_url


@st.cache_data(ttl=600, show_spinner=False)
def _table(_engine, data_version: str, scope, day) -> pd.DataFrame:
    return town_table(_engine, scope=scope, today=day)


@st.cache_data(ttl=600, show_spinner=False)
def _totals(_engine, data_version: str, scope, day, _table: pd.DataFrame) -> dict[str, float]:
    return headline(_engine, scope=scope, today=day, table=_table)


@st.cache_data(ttl=600, show_spinner=False)
def _trend(_engine, data_version: str, scope, day) -> pd.DataFrame:
    return monthly_trend(_engine, scope=scope, today=day)


def _trend_chart(trend: pd.DataFrame) -> None:
    st.subheader(ui.t("overview.trend"))
    st.caption(ui.t("overview.trend_caption"))
    labels = {"diary_entries": ui.t("kpi.diary_entries"), "risks": ui.t("kpi.risks_found"),
              "cases": ui.t("col.cases")}
    st.line_chart(trend.rename(columns=labels), height=260)


def _counters(totals: dict[str, float]) -> None:
    cells = [
        ("kpi.diaries_issued", f"{totals['diaries']:,}"),
        ("kpi.diary_entries", f"{totals['diary_entries']:,}"),
        ("kpi.problems_solved", f"{totals['solved']:,}"),
        ("kpi.risks_found", f"{totals['risks']:,}"),
        ("kpi.open_cases", f"{totals['open']:,}"),
        ("kpi.overdue_cases", f"{totals['overdue']:,}"),
        ("kpi.on_time_rate", f"{totals['on_time_rate']:.1%}"),
    ]
    for column, (key, value) in zip(st.columns(len(cells)), cells, strict=True):
        column.metric(ui.t(key), value)
    st.caption(
        f"{ui.t('kpi.grids')} {totals['grids']:,} · {ui.t('kpi.households')} "
        f"{totals['households']:,} · {ui.t('kpi.closure_rate')} {totals['closure_rate']:.1%}"
    )


def _town_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The per-town table as shown: translated kinds and a deep link per town."""
    lang = ui.lang()
    return pd.DataFrame({
        ui.t("col.town"): table["name"],
        ui.t("col.kind"): [ui.t(f"town_kind.{kind}") for kind in table["kind"]],
        ui.t("col.grids"): table["grids"],
        ui.t("col.households"): table["households"],
        ui.t("col.diary_entries"): table["diary_entries"],
        ui.t("col.solved"): table["solved"],
        ui.t("col.risks"): table["risks"],
        ui.t("col.open"): table["open"],
        ui.t("col.overdue"): table["overdue"],
        ui.t("col.on_time_rate"): (table["on_time_rate"] * 100).round(1),
        ui.t("col.link"): [town_map_url(town_id, lang=lang) for town_id in table["town_id"]],
    })


def page() -> None:
    st.title(ui.t("overview.title"))
    ui.demo_badge()
    day = today()
    st.caption(ui.t("overview.caption", today=day.isoformat()))
    engine, version, scope = ui.engine(), ui.version(), ui.current_scope()
    table = _table(engine, version, scope, day)
    _counters(_totals(engine, version, scope, day, table))
    st.subheader(ui.t("overview.by_town"))
    st.dataframe(
        _town_rows(table), hide_index=True, width="stretch", height=36 * (len(table) + 1) + 4,
        column_config={
            ui.t("col.on_time_rate"): st.column_config.NumberColumn(format="%.1f%%"),
            ui.t("col.link"): st.column_config.LinkColumn(display_text=ui.t("overview.town_link")),
        },
    )
    _trend_chart(_trend(engine, version, scope, day))


page()
