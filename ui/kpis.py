"""KPIs on a page: the shared period picker, and numbers drawn with their definition as help.

Every label, value and definition comes from :mod:`minqing.kpi`; a page only says which KPIs it
shows. The chosen period is kept across pages, so the overview and a grid show the same period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

import ui
from minqing.clock import today
from minqing.kpi import KPIS

_PERIOD = "period"  # session key shared by every page that shows KPIs over a period


def period(key: str) -> tuple[dt.date, dt.date]:
    """The period picker (default: 1 January to today); the pick carries over to other pages."""
    day = today()
    since, until = st.session_state.get(_PERIOD, (dt.date(day.year, 1, 1), day))
    picked = st.columns([1, 3])[0].date_input(ui.t("kpi.period"), value=(since, until),
                                              max_value=day, key=key, help=ui.t("kpi.period.help"))
    if isinstance(picked, tuple) and len(picked) == 2:
        st.session_state[_PERIOD] = picked
        return picked
    return since, until


def metrics(values: Mapping[str, float], keys: Sequence[str]) -> None:
    """One row of numbers, each with its KPI's label, display and one-line definition."""
    lang = ui.lang()
    for column, key in zip(st.columns(len(keys)), keys, strict=True):
        kpi = KPIS[key]
        column.metric(kpi.label(lang), kpi.show(values[key]), help=kpi.definition(lang))


def table_columns(frame: pd.DataFrame, keys: Sequence[str]) -> tuple[dict, dict]:
    """KPI columns for a table (label -> values, rates in per cent) and their column settings
    (the definition as the header's help)."""
    lang = ui.lang()
    data, config = {}, {}
    for key in keys:
        kpi = KPIS[key]
        label = kpi.label(lang)
        if kpi.is_rate:
            data[label] = (frame[key] * 100).round(1)
            config[label] = st.column_config.NumberColumn(format="%.1f%%", help=kpi.definition(lang))
        else:
            data[label] = frame[key]
            config[label] = st.column_config.NumberColumn(format="localized",
                                                          help=kpi.definition(lang))
    return data, config
