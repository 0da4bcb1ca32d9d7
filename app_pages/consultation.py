"""Weekly township consultation (会诊, ``?town=&meeting=``): the agenda built from the town's data,
the meeting with its decisions written back to the cases, printable minutes, past meetings."""

from __future__ import annotations

import streamlit as st

import ui
from minqing.supervision import meetings
from ui.meetings import agenda_section, meeting_view, past_section
from ui.supervision import town_filter

KIND = meetings.Kind.CONSULTATION.value


def page() -> None:
    st.title(ui.t("meeting.title.consultation"))
    ui.demo_badge()
    st.caption(ui.t("meeting.caption.consultation"))
    meeting_id = ui.query_int("meeting")
    if meeting_id is not None:
        meeting_view(KIND, meeting_id)
        return
    town_id = ui.current_town()
    if town_id is None:
        st.info(ui.t("sv.pick_town"))
    else:
        table = meetings.agenda(ui.engine(), scope=ui.current_scope(), kind=KIND, town_id=town_id)
        agenda_section(KIND, table, town_id=town_id, area_id=None, filters=[town_filter()])
    past_section(KIND, town_id=town_id)


page()
