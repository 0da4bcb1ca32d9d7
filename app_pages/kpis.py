"""KPIs by town, area, grid or cadre over a period, with each definition on screen and a monthly
trend (``?level=grid&since=2026-01-01&until=2026-11-27&kpi=on_time_rate``: the address is the
view, so it can be sent as it is)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

import ui
from minqing.clock import today
from minqing.kpi import KPIS, LEVELS, evaluate, trend
from ui.kpis import period, table_columns
from ui.safe import md
from ui.supervision import export_button, town_filter

COLUMNS = ("diary_entries", "risks_found", "risks_resolved", "cases_due", "closure_rate",
           "on_time_rate", "extension_rate", "rework_rate", "satisfaction_rate",
           "visit_coverage", "silent_grids", "open_cases", "overdue_cases")
DATED = [k for k in COLUMNS if KPIS[k].dated]


@st.cache_data(ttl=600, show_spinner=False)
def _table(_engine, data_version: str, scope, level: str, since, until, day) -> pd.DataFrame:
    return evaluate(_engine, scope=scope, by=level, kpis=COLUMNS, since=since, until=until,
                    today=day)


@st.cache_data(ttl=600, show_spinner=False)
def _trend(_engine, data_version: str, scope, key: str, months: int, day) -> pd.DataFrame:
    return trend(_engine, scope=scope, kpis=[key], months=months, today=day)


def _linked_period() -> None:
    """``?since=&until=`` (a shared link) sets the period once; the picker keeps it after."""
    raw = (st.query_params.get("since"), st.query_params.get("until"))
    if raw[0] and raw[1] and st.session_state.get("_linked_period") != raw:
        try:
            st.session_state["period"] = tuple(dt.date.fromisoformat(v) for v in raw)
        except ValueError:
            st.warning(ui.t("kpis.bad_period", value=md(" ~ ".join(raw))))
        st.session_state["_linked_period"] = raw


def _choice(name: str, options: list[str], label: str, fmt) -> str:
    linked = st.query_params.get(name)
    index = options.index(linked) if linked in options else 0
    value = st.selectbox(label, options, index=index, format_func=fmt, key=f"kpis_{name}")
    st.query_params[name] = value
    return value


def page() -> None:
    st.title(ui.t("kpis.title"))
    ui.demo_badge()
    st.caption(ui.t("kpis.caption"))
    _linked_period()
    c1, c2 = st.columns([1, 2])
    with c1:
        level = _choice("level", list(LEVELS), ui.t("kpis.level"),
                        lambda v: ui.t(f"kpis.level.{v}"))
    with c2:
        since, until = period("kpis_period")
    st.query_params["since"], st.query_params["until"] = since.isoformat(), until.isoformat()
    engine, version, scope, day = ui.engine(), ui.version(), ui.current_scope(), today()
    table = _table(engine, version, scope, level, since, until, day)
    values, config = table_columns(table, COLUMNS)
    shown = pd.DataFrame({ui.t(f"kpis.level.{level}"): table["name"].fillna("").to_numpy(),
                          **{k: v.to_numpy() for k, v in values.items()}})
    st.subheader(ui.t("kpis.table", n=len(shown)))
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, height=420)
    filters = [town_filter(), (ui.t("kpis.level"), ui.t(f"kpis.level.{level}")),
               (ui.t("kpi.period"), f"{since} ~ {until}")]
    export_button(shown, title=ui.t("kpis.title"), file=f"kpis-{level}-{since}-{until}",
                  filters=filters)
    with st.expander(ui.t("kpis.definitions")):
        lang = ui.lang()
        st.dataframe(pd.DataFrame({ui.t("kpis.kpi"): [KPIS[k].label(lang) for k in COLUMNS],
                                   ui.t("kpis.definition"): [KPIS[k].definition(lang)
                                                             for k in COLUMNS]}),
                     hide_index=True, width="stretch")
    _trend_section(engine, version, scope, since, day)


def _trend_section(engine, version: str, scope, since: dt.date, day: dt.date) -> None:
    st.subheader(ui.t("kpis.trend"))
    lang = ui.lang()
    key = _choice("kpi", DATED, ui.t("kpis.kpi"), lambda k: KPIS[k].label(lang))
    months = max(2, min(36, (day.year - since.year) * 12 + day.month - since.month + 1))
    frame = _trend(engine, version, scope, key, months, day)
    kpi = KPIS[key]
    st.caption(md(kpi.definition(lang)))
    series = frame[key] * 100 if kpi.is_rate else frame[key]
    st.line_chart(pd.DataFrame({kpi.label(lang): series}), height=240)
    shown = pd.DataFrame({ui.t("kpis.month"): frame.index,
                          kpi.label(lang): [kpi.show(v) for v in frame[key]]})
    export_button(shown, title=ui.t("kpis.trend"), file=f"trend-{key}",
                  filters=[town_filter(), (ui.t("kpis.kpi"), kpi.label(lang)),
                           (ui.t("kpis.months"), months)])


page()
