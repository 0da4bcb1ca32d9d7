"""Streamlit glue shared by the supervision pages (review, consultation, follow-up, verification,
scoring, KPIs): pickers that follow deep links, the remembered "who acted", and tables shown with
the same translated columns that their Excel export writes.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from minqing.supervision.reviews import area_choices
from ui.casework import case_link

ACTOR = "_actor"


def actor_input(key: str, label_key: str = "sv.actor", default: str = "") -> str:
    """Who acted, typed as on the case page (remembered for the session)."""
    return st.text_input(ui.t(label_key), value=st.session_state.get(ACTOR) or default, key=key)


def remember_actor(name: str) -> None:
    st.session_state[ACTOR] = (name or "").strip()


def area_picker() -> tuple[int, str, str] | None:
    """An area of the current scope, following ``?area=``; (id, name, head) or None."""
    areas = area_choices(ui.engine(), scope=ui.current_scope())
    if not areas:
        st.info(ui.t("sv.no_areas"))
        return None
    by_id = {a[0]: a for a in areas}
    linked = ui.query_int("area")
    if linked in by_id and st.session_state.get("_linked_area") != linked:
        st.session_state.area_id = linked
        st.session_state._linked_area = linked
    if st.session_state.get("area_id") not in by_id:
        st.session_state.area_id = areas[0][0]
    area_id = st.selectbox(ui.t("sv.area"), list(by_id), key="area_id",
                           format_func=lambda i: f"{by_id[i][1]} · {by_id[i][2]}")
    st.query_params["area"] = str(area_id)
    return by_id[area_id]


def reasons_text(codes: list[str]) -> str:
    return ui.t("minutes.sep").join(ui.t(f"agenda.reason.{c}") for c in codes)


def case_table(frame: pd.DataFrame, extra: dict[str, object] | None = None) -> pd.DataFrame:
    """Cases (agenda lines and the like) as shown and exported: translated headers and codes."""
    shown = pd.DataFrame({
        ui.t("sv.col.link"): [case_link(i, c) for i, c in zip(frame["case_id"], frame["code"],
                                                               strict=True)],
        ui.t("sv.col.title"): frame["title"],
        ui.t("sv.col.grid"): frame["grid"],
        ui.t("sv.col.track"): [ui.t(f"track.{v}") for v in frame["track"]],
        ui.t("sv.col.status"): [ui.t(f"status.{v}") for v in frame["status"]],
        ui.t("sv.col.deadline"): frame["deadline"],
    })
    for label, values in (extra or {}).items():
        shown[label] = list(values)
    return shown


def show_table(shown: pd.DataFrame, *, key: str | None = None) -> None:
    """A table as the user reads it; case links show the case number."""
    if shown.empty:
        st.caption(ui.t("sv.empty"))
        return
    config = {}
    if ui.t("sv.col.link") in shown:
        config[ui.t("sv.col.link")] = st.column_config.LinkColumn(display_text=r"#(.+)$")
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, key=key)
