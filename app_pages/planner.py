"""Planner (网格规划): grids out of bounds, a rebalancing proposal with hand edits, compare and
publish as a new grid layer version; cadre pairings; versions and restore; bounds."""

from __future__ import annotations

import streamlit as st

import ui
from ui import planning


def page() -> None:
    st.title(ui.t("plan.title"))
    ui.demo_badge()
    st.caption(ui.t("plan.caption"))
    current = planning.layers.current_layer(ui.engine())
    if current is not None:
        st.caption(ui.t("plan.current", number=current.number,
                        at=current.created_at.strftime("%Y-%m-%d %H:%M")))
    tabs = st.tabs([ui.t(f"plan.tab.{k}") for k in
                    ("check", "propose", "pairings", "versions", "bounds")])
    with tabs[0]:
        planning.check_section()
    with tabs[1]:
        planning.propose_section()
    with tabs[2]:
        planning.pairings_section()
    with tabs[3]:
        planning.versions_section()
    with tabs[4]:
        planning.bounds_section()


page()
