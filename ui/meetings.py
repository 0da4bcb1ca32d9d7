"""The meeting flow shared by the consultation (会诊) and follow-up (复诊) pages: the agenda built
from the data, starting a meeting, recording each decision, the printable minutes and the list of
past meetings. Reads and writes go through :mod:`minqing.supervision.meetings`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

import ui
from minqing.clock import today
from minqing.errors import DomainError
from minqing.supervision import meetings
from minqing.supervision.minutes import decision_text, minutes_html
from minqing.vocab import Track
from ui.casework import flash, show_refusal
from ui.safe import md
from ui.supervision import (
    actor,
    case_table,
    export_button,
    reasons_text,
    show_table,
    town_filter,
)

FLASH = "_meeting_flash"


def agenda_frame(agenda: pd.DataFrame) -> pd.DataFrame:
    shown = case_table(agenda, {
        ui.t("sv.col.days_left"): agenda["days_left"],
        ui.t("sv.col.responsible"): agenda["responsible"],
        ui.t("sv.col.leader"): agenda["leader"].fillna(""),
    })
    shown.insert(1, ui.t("sv.col.reasons"), [reasons_text(r) for r in agenda["reasons"]])
    return shown


def agenda_section(kind: str, agenda: pd.DataFrame, *, town_id: int | None,
                   area_id: int | None, filters: list[tuple[str, object]]) -> None:
    """The agenda table (and its export) and the form that starts the meeting with it."""
    st.subheader(ui.t("meeting.agenda", n=len(agenda)))
    if agenda.empty:
        st.info(ui.t("meeting.agenda_empty"))
        return
    shown = agenda_frame(agenda)
    show_table(shown)
    export_button(shown, title=ui.t("meeting.agenda", n=len(agenda)), file=f"agenda-{kind}",
                  filters=[*filters, (ui.t("sv.col.date"), today().isoformat())])
    with st.form(f"start_{kind}", border=True):
        c1, c2 = st.columns([1, 2])
        held_on = c1.date_input(ui.t("meeting.field.held_on"), value=today(), max_value=today(),
                                key=f"start_day_{kind}")
        chair = c2.text_input(ui.t("meeting.field.chair"), key=f"start_chair_{kind}")
        attendees = st.text_input(ui.t("meeting.field.attendees"), key=f"start_who_{kind}")
        started = st.form_submit_button(ui.t("meeting.start"), type="primary")
    if not started:
        return
    try:
        meeting_id = meetings.start_meeting(
            ui.engine(), scope=ui.current_scope(), kind=kind, held_on=held_on, chair=chair,
            attendees=attendees, actor=actor(), town_id=town_id, area_id=area_id)
    except DomainError as exc:
        show_refusal(exc)
        return
    st.query_params["meeting"] = str(meeting_id)
    st.rerun()


def past_section(kind: str, *, town_id: int | None) -> None:
    st.subheader(ui.t("meeting.past"))
    past = meetings.past_meetings(ui.engine(), scope=ui.current_scope(), kind=kind,
                                  town_id=town_id)
    shown = pd.DataFrame({
        ui.t("meeting.open_link"): [f"?meeting={i}&lang={ui.lang()}#{d}"
                                    for i, d in zip(past["id"], past["held_on"], strict=True)],
        ui.t("sv.col.town"): past["town"],
        ui.t("sv.col.area"): past["area"].fillna(""),
        ui.t("meeting.col.chair"): past["chair"],
        ui.t("meeting.field.attendees"): past["attendees"],
        ui.t("meeting.col.items"): past["items"],
        ui.t("meeting.col.decided"): past["decided"],
    })
    if shown.empty:
        st.caption(ui.t("sv.empty"))
        return
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        ui.t("meeting.open_link"): st.column_config.LinkColumn(display_text=r"#(.+)$")})
    export_button(shown, title=ui.t("meeting.past"), file=f"meetings-{kind}",
                  filters=[town_filter()])


def minutes_frame(items: pd.DataFrame) -> pd.DataFrame:
    lang = ui.lang()
    return pd.DataFrame({
        ui.t("sv.col.link"): [f"./case?case={i}#{c}" for i, c in
                              zip(items["case_id"], items["code"], strict=True)],
        ui.t("sv.col.title"): items["title"],
        ui.t("sv.col.grid"): items["grid"],
        ui.t("sv.col.reasons"): [reasons_text(r) for r in items["reasons"]],
        ui.t("meeting.col.decision"): [decision_text(r, lang) if pd.notna(r["action"]) else ""
                                       for r in items.to_dict("records")],
        ui.t("meeting.col.decided_by"): items["decided_by"].fillna(""),
    })


def meeting_view(kind: str, meeting_id: int) -> None:
    """One meeting: its header, the decision form for undecided items, and the minutes."""
    minutes = meetings.meeting_minutes(ui.engine(), scope=ui.current_scope(),
                                       meeting_id=meeting_id)
    if minutes is None or minutes["meeting"]["kind"] != kind:
        st.warning(ui.t("meeting.not_found", value=meeting_id))
        _back_button()
        return
    m = minutes["meeting"]
    place = m["town"] + (f" · {m['area']}" if m["area"] else "")
    st.subheader(md(ui.t("meeting.header", title=ui.t(f"meeting.title.{kind}"), place=place,
                         day=m["held_on"].isoformat())))
    st.caption(md(f"{ui.t('meeting.field.chair')}: {m['chair']} · "
                  f"{ui.t('meeting.field.attendees')}: {m['attendees']}"))
    _back_button()
    flash(FLASH)
    _decision_form(kind, meeting_id, minutes["items"])
    st.subheader(ui.t("meeting.minutes"))
    shown = minutes_frame(minutes["items"])
    show_table(shown)
    export_button(shown, title=ui.t(f"minutes.title.{kind}"), file=f"minutes-{meeting_id}",
                  filters=[(ui.t("sv.area") if m["area"] else ui.t("app.town"), place),
                           (ui.t("meeting.field.held_on"), m["held_on"].isoformat()),
                           (ui.t("meeting.field.chair"), m["chair"]),
                           (ui.t("meeting.field.attendees"), m["attendees"])])
    page = minutes_html(minutes, lang=ui.lang())
    st.download_button(ui.t("meeting.minutes_download"), data=page, mime="text/html",
                       file_name=f"minutes-{kind}-{m['held_on']}-{meeting_id}.html",
                       icon=":material/print:")
    components.html(minutes_html(minutes, lang=ui.lang(), print_button=True), height=520,
                    scrolling=True)


def _back_button() -> None:
    if st.button(ui.t("meeting.back"), icon=":material/arrow_back:"):
        st.query_params.pop("meeting", None)
        st.rerun()


def _decision_form(kind: str, meeting_id: int, items: pd.DataFrame) -> None:
    open_items = items[items["action"].isna()]
    st.subheader(ui.t("meeting.decide"))
    if open_items.empty:
        st.success(ui.t("meeting.all_decided"), icon=":material/task_alt:")
        return
    labels = {int(r.case_id): f"{r.code} · {r.title}" for r in open_items.itertuples()}
    case_id = st.selectbox(ui.t("meeting.pick_item"), list(labels), format_func=labels.get,
                           key=f"item_{meeting_id}")
    current = meetings.agenda_case(ui.engine(), scope=ui.current_scope(), case_id=case_id)
    if current is None:  # the case left the viewer's scope (a narrower town picked)
        st.warning(ui.t("meeting.error.item", case_id=case_id))
        return
    st.caption(md(f"{ui.t('sv.col.reasons')}: "
                  f"{reasons_text(open_items.set_index('case_id').at[case_id, 'reasons'])}"
                  f" · {ui.t('sv.col.track')}: {ui.t('track.' + current['track'])}"
                  f" · {ui.t('sv.col.status')}: {ui.t('status.' + current['status'])}"
                  f" · {ui.t('sv.col.deadline')}: {current['deadline']}"))
    key = f"decide_{meeting_id}_{case_id}_{st.session_state.get('_decide_gen', 0)}"
    with st.form(key, border=True):
        fields = (_consultation_fields(key) if kind == meetings.Kind.CONSULTATION
                  else _follow_up_fields(key))
        submitted = st.form_submit_button(
            ui.t("meeting.submit_decision" if kind == meetings.Kind.CONSULTATION
                 else "meeting.submit_rectify"), type="primary")
    if not submitted:
        return
    try:
        if kind == meetings.Kind.CONSULTATION:
            meetings.record_decision(ui.engine(), scope=ui.current_scope(), meeting_id=meeting_id,
                                     case_id=case_id, version=current["version"], actor=actor(),
                                     **fields)
        else:
            meetings.record_rectification(ui.engine(), scope=ui.current_scope(),
                                          meeting_id=meeting_id, case_id=case_id,
                                          version=current["version"], actor=actor(), **fields)
    except DomainError as exc:
        show_refusal(exc)
        return
    st.session_state["_decide_gen"] = st.session_state.get("_decide_gen", 0) + 1
    st.session_state[FLASH] = ui.t("meeting.decision_saved", code=labels[case_id].split(" · ")[0])
    st.rerun()


def _consultation_fields(key: str) -> dict:
    c1, c2 = st.columns(2)
    leader = c1.text_input(ui.t("case.field.leader"), key=f"{key}_leader")
    track = c2.selectbox(ui.t("meeting.field.track"), [None, *[t.value for t in Track]],
                         key=f"{key}_track", format_func=lambda v: ui.t("meeting.keep_track")
                         if v is None else ui.t(f"track.{v}"))
    c3, c4 = st.columns(2)
    set_deadline = c3.checkbox(ui.t("meeting.set_deadline"), key=f"{key}_set")
    deadline = c3.date_input(ui.t("meeting.field.new_deadline"), key=f"{key}_deadline",
                             value=today() + dt.timedelta(days=14))
    department = c4.text_input(ui.t("meeting.field.department"), key=f"{key}_dept")
    comment = st.text_area(ui.t("meeting.field.opinion"), key=f"{key}_comment", height=80)
    return {"leader": leader, "track": track, "deadline": deadline if set_deadline else None,
            "department": department, "comment": comment}


def _follow_up_fields(key: str) -> dict:
    criticism = st.text_area(ui.t("case.field.criticism"), key=f"{key}_criticism", height=80)
    rectify_by = st.date_input(ui.t("case.field.rectify_by"), key=f"{key}_by",
                               value=today() + dt.timedelta(days=14))
    return {"criticism": criticism, "rectify_by": rectify_by}
