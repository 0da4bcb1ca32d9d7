"""Case (?case=): where it stands against its deadline, its liaison letter, the next action, and
its whole history. ``&update=quick`` (the start page's "update" link) puts the quick update first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from minqing.casebook import CaseDetail, case_detail, case_history
from minqing.cases import coded_fields
from minqing.clock import today
from minqing.deadlines import DeadlineState
from minqing.letter import liaison_letter_html
from minqing.vocab import Track
from ui.caseforms import case_action_form
from ui.casework import deadline_text, green_mark, missing_record
from ui.notices import calendar_banner
from ui.phone import case_layout
from ui.safe import md


def _title(d: CaseDetail) -> None:
    case = d.case
    st.title(md(case["title"]))
    green = green_mark(case["green_channel"])
    track, status = ui.t(f"track.{case['track']}"), ui.t(f"status.{case['status']}")
    st.caption(f"{md(case['code'])} · {track} · {status}"
               + (f" · **{green}**" if green else ""))
    ui.demo_badge()
    if d.deadline_state == DeadlineState.OVERDUE:
        st.error(deadline_text(d.days_left, d.deadline_state), icon=":material/alarm:")
    if case["green_channel"]:
        st.success(ui.t("case.green_banner", leader=md(case["leader"] or "—")), icon=":material/bolt:")


def _figures(d: CaseDetail) -> None:
    case = d.case
    cells = [
        (ui.t("tbl.deadline"), str(case["deadline"])),
        (ui.t("tbl.days_left"), deadline_text(d.days_left, d.deadline_state)),
        (ui.t("case.field.responsible"), md(case["responsible"])),
        (ui.t("case.field.leader"), md(case["leader"] or "—")),
    ]
    for column, (label, value) in zip(st.columns(len(cells)), cells, strict=True):
        column.metric(label, value)
    st.markdown(f"{ui.t('case.where')}{ui.t('punct.colon')}{md(d.town)} · {md(d.area)}")
    links = st.columns([1, 1, 3])
    links[0].page_link("app_pages/grid.py", label=md(d.grid), icon=":material/grid_view:",
                       query_params={"grid": str(case["grid_id"])})
    if case["household_id"]:
        links[1].page_link("app_pages/household.py", label=md(d.household or "—"), icon=":material/home:",
                           query_params={"household": str(case["household_id"])})


def _details(d: CaseDetail) -> None:
    case = d.case
    rows = [("case.opened_on", case["opened_on"]), ("case.field.department", case["department"]),
            ("case.field.letter_no", case["letter_no"]),
            ("case.field.letter_reply", case["letter_reply"]),
            ("case.field.explanation", case["explanation"]), ("case.field.result", case["result"]),
            ("case.field.feedback", case["feedback"]),
            ("case.field.satisfaction",
             ui.t(f"satisfaction.{case['satisfaction']}") if case["satisfaction"] else None),
            ("case.closed_on", case["closed_on"])]
    shown = [(ui.t(key), str(value)) for key, value in rows if value not in (None, "")]
    if d.entry:
        source = ui.t(f"source.{d.entry['source']}")
        shown.insert(0, (ui.t("case.from_entry"), f"{d.entry['date']} · {source} · {d.entry['text']}"))
    if shown:
        st.dataframe(pd.DataFrame(shown, columns=[ui.t("tbl.item"), ui.t("tbl.value")]),
                     hide_index=True, width="stretch")
    if case["track"] == Track.LIAISON.value and case["letter_no"]:
        st.download_button(
            ui.t("case.letter_download"), data=liaison_letter_html(d, lang=ui.lang(),
                                                                    issued_on=case["opened_on"]),
            file_name=f"liaison-letter-{case['code']}.html", mime="text/html", icon=":material/print:")


def _label(key: str, fallback: str) -> str:
    """A catalogue label, or the raw code when the catalogue has none (imported history)."""
    text = ui.t(key)
    return fallback if text == key else text


def _value(name: str, value: object) -> str:
    """A changed value as a user reads it: labels for codes, yes/no for flags, — for nothing."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return ui.t("case.value.yes" if value else "case.value.no")
    if name in coded_fields():
        return _label(f"{name}.{value}", str(value))
    return str(value)


def _change_text(changes: dict) -> str:
    """Changed fields as "label: old → new" lines, labels from the catalogue."""
    parts = []
    for name, change in changes.items():
        old, new = change if isinstance(change, list) and len(change) == 2 else (None, change)
        label = _label(f"case.field.{name}", name)
        parts.append(f"{label}: {_value(name, old)} → {_value(name, new)}")
    return ui.t("punct.clauses").join(parts)


def _history(events: list[dict]) -> None:
    st.subheader(ui.t("case.history", n=len(events)))
    status = lambda s: ui.t(f"status.{s}") if s else "—"  # noqa: E731
    st.dataframe(pd.DataFrame({
        ui.t("tbl.when"): [e["at"] for e in events],
        ui.t("tbl.who"): [e["actor"] for e in events],
        ui.t("tbl.action"): [_label(f"case.action.{e['action']}", e["action"]) for e in events],
        ui.t("tbl.from_to"): [f"{status(e['from_status'])} → {status(e['to_status'])}"
                              for e in events],
        ui.t("case.field.comment"): [e["comment"] for e in events],
        ui.t("tbl.changes"): [_change_text(e["changes"]) for e in events],
    }), hide_index=True, width="stretch")


def page() -> None:
    case_id, raw = ui.query_int("case"), st.query_params.get("case")
    scope = ui.current_scope()
    detail = (case_detail(ui.engine(), scope=scope, case_id=case_id, today=today())
              if case_id is not None else None)
    if detail is None:
        st.title(ui.t("nav.case"))
        missing_record("case", raw)
        return
    quick = st.query_params.get("update") == "quick"
    case_layout()
    _title(detail)
    calendar_banner()
    if quick:
        case_action_form(detail, quick=True)
        st.page_link("app_pages/case.py", label=ui.t("case.all_actions"),
                     icon=":material/more_horiz:", query_params={"case": str(case_id)})
    with st.container(key="case_head"):  # keyed blocks: see ui.phone
        _figures(detail)
    with st.container(key="case_body"):
        if quick:
            _details(detail)
        else:
            left, right = st.columns([3, 2])
            with left:
                _details(detail)
            with right:
                st.subheader(ui.t("case.next_step"))
                case_action_form(detail)
    with st.container(key="case_history"):
        _history(case_history(ui.engine(), scope=scope, case_id=case_id))


page()
