"""Monthly area follow-up (复诊, ``?area=&meeting=``): late and nearly late cases, criticism and a
rectification deadline recorded on each, and every rectification tracked until met or missed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from minqing.supervision import meetings
from ui.meetings import agenda_section, meeting_view, past_section
from ui.supervision import area_picker, blank, export_button, show_table

KIND = meetings.Kind.FOLLOW_UP.value


def _rectifications(area_id: int, area_name: str) -> None:
    st.subheader(ui.t("meeting.rectifications"))
    table = meetings.rectifications(ui.engine(), scope=ui.current_scope(), area_id=area_id)
    shown = pd.DataFrame({
        ui.t("sv.col.link"): [f"./case?case={i}#{c}" for i, c in
                              zip(table["case_id"], table["code"], strict=True)],
        ui.t("sv.col.title"): table["title"],
        ui.t("meeting.col.held_on"): table["held_on"],
        ui.t("meeting.col.criticism"): table["criticism"],
        ui.t("meeting.col.rectify_by"): table["rectify_by"],
        ui.t("verify.col.closed_on"): blank(table["closed_on"]),
        ui.t("meeting.col.state"): [ui.t(f"rectify.{s}") for s in table["state"]],
    })
    show_table(shown)
    export_button(shown, title=ui.t("meeting.rectifications"), file="rectifications",
                  filters=[(ui.t("sv.area"), area_name)])


def page() -> None:
    st.title(ui.t("meeting.title.follow_up"))
    ui.demo_badge()
    st.caption(ui.t("meeting.caption.follow_up"))
    meeting_id = ui.query_int("meeting")
    if meeting_id is not None:
        meeting_view(KIND, meeting_id)
        return
    area = area_picker()
    if area is None:
        return
    table = meetings.agenda(ui.engine(), scope=ui.current_scope(), kind=KIND, area_id=area[0])
    agenda_section(KIND, table, town_id=None, area_id=area[0],
                   filters=[(ui.t("sv.area"), area[1])])
    _rectifications(area[0], area[1])
    past_section(KIND, town_id=ui.current_town())


page()
