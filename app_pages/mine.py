"""My grids: a grid cadre's start page — their grids with a one-tap new entry each, their open
cases (overdue first) each with a one-tap quick update, and the households paired with cadres."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

import ui
from minqing import mine
from minqing.clock import today
from minqing.deadlines import DeadlineState
from minqing.links import household_url
from ui.casework import backlog_table, deadline_text
from ui.safe import md

CARDS = 20  # open cases listed one by one; a wider jurisdiction's rest are in the table


@st.cache_data(ttl=600, show_spinner=False)
def _load(_engine, data_version: str, scope, day: dt.date) -> mine.StartPage:
    return mine.start_page(_engine, scope=scope, today=day)


def _grid_card(g: mine.MyGrid) -> None:
    with st.container(border=True):
        st.markdown(f"**{md(g.name)}** · {md(g.code)}")
        st.caption(ui.t("mine.grid_line", households=g.households, open=g.open_cases,
                        overdue=g.overdue))
        left, right = st.columns(2)
        left.page_link("app_pages/grid.py", label=ui.t("mine.new_entry"),
                       icon=":material/edit_note:",
                       query_params={"grid": str(g.id), "entry": "new"})
        right.page_link("app_pages/grid.py", label=ui.t("mine.open_grid"),
                        icon=":material/grid_view:", query_params={"grid": str(g.id)})


def _case_card(case, *, show_grid: bool) -> None:
    """One open case: what, whose, where it stands, and the tap that opens its quick update."""
    with st.container(border=True, key=f"case_card_{case.id}"):
        st.markdown(f"**{md(case.title)}**")
        due = deadline_text(case.days_left, case.deadline_state)
        parts = [md(case.code), ui.t(f"status.{case.status}"),
                 f":red[{due}]" if case.deadline_state == DeadlineState.OVERDUE else due]
        parts += [md(case.household)] if pd.notna(case.household) else []
        parts += [md(case.grid)] if show_grid else []
        st.caption(" · ".join(parts))
        st.page_link("app_pages/case.py", label=ui.t("mine.update_case"), icon=":material/edit:",
                     query_params={"case": str(case.id), "update": "quick"})


def _cases(backlog: pd.DataFrame, *, show_grid: bool) -> None:
    st.subheader(ui.t("mine.cases", n=len(backlog)))
    if backlog.empty:
        st.caption(ui.t("backlog.empty"))
        return
    for case in backlog.head(CARDS).itertuples():
        _case_card(case, show_grid=show_grid)
    if len(backlog) > CARDS:
        st.caption(ui.t("mine.more_cases", n=len(backlog) - CARDS))
        with st.expander(ui.t("mine.all_cases")):
            backlog_table(backlog, show_grid=show_grid)


def _paired(frame: pd.DataFrame) -> None:
    st.subheader(ui.t("mine.paired", n=len(frame)))
    if frame.empty:
        st.caption(ui.t("mine.paired_empty"))
        return
    join = ui.t("punct.list").join
    shown = pd.DataFrame({
        ui.t("tbl.household"): [household_url(i, fragment=n) for i, n in
                                zip(frame["id"], frame["head_name"], strict=True)],
        ui.t("mine.tbl.tags"): [join(ui.t(f"tag.{t}") for t in tags) for tags in frame["tags"]],
        ui.t("mine.tbl.cadres"): [join(names) for names in frame["cadres"]],
        ui.t("household.address"): frame["address"],
        ui.t("tbl.grid"): frame["grid"],
    })
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        ui.t("tbl.household"): st.column_config.LinkColumn(display_text=r"#(.+)$"),
    })


def page() -> None:
    st.title(ui.t("mine.title"))
    ui.demo_badge()
    data = _load(ui.engine(), ui.version(), ui.current_scope(), today())
    if not data.grids:
        st.info(ui.t("mine.no_grids"))
    for g in data.grids:
        _grid_card(g)
    _cases(data.backlog, show_grid=len(data.grids) > 1)
    _paired(data.paired)


page()
