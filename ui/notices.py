"""Notices a supervisor must see before trusting the numbers: today, a missing calendar year."""

from __future__ import annotations

import datetime as dt

import streamlit as st

import ui
from minqing import workcalendar
from minqing.clock import today


@st.cache_data(ttl=600, show_spinner=False)
def _gaps(_engine, data_version: str, day: dt.date) -> list[int]:
    return workcalendar.gaps(_engine, today=day)


def calendar_banner() -> None:
    """A warning while today or an open case's deadline lies in a year the calendar lacks."""
    missing = _gaps(ui.engine(), ui.version(), today())
    if missing:
        st.warning(ui.t("calendar.gap", years=", ".join(map(str, missing))),
                   icon=":material/event_busy:")
