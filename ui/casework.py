"""Page-side helpers for the grid, case and household pages: deep-link checks, tables and badges.

Streamlit only: every read and write goes through the ``minqing`` packages; no SQL here. The two
forms (diary entry, case action) live in :mod:`ui.caseforms`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from minqing.deadlines import DeadlineState
from minqing.errors import DomainError
from minqing.links import case_url, household_url
from ui.export import download_table
from ui.safe import md


def show_refusal(exc: DomainError) -> None:
    """A refusal in the user's language, never a traceback."""
    st.error(exc.message(ui.lang(), quote=md), icon=":material/error:")


def _show_all_towns() -> None:
    st.session_state.town_id = None


def missing_record(kind: str, raw: str | None) -> None:
    """A friendly message for an absent, malformed or out-of-scope deep link (the raw value is
    shown as typed: it came from the address bar)."""
    if raw is None:
        st.info(ui.t(f"{kind}.pick_hint"))
        return
    st.warning(ui.t(f"{kind}.not_found", value=md(raw)))
    who = ui.viewer()
    if ui.query_int(kind) is not None and who.level != "district":
        st.caption(ui.t("auth.jurisdiction_note", where=md(ui.jurisdiction_name(who))))
    if ui.query_int(kind) is not None and ui.current_town() is not None:
        st.button(ui.t("link.show_all_towns"), on_click=_show_all_towns)


def flash(key: str) -> None:
    """Show (once) a success message left by the previous run before its ``st.rerun()``."""
    message = st.session_state.pop(key, None)
    if message:
        st.success(message, icon=":material/check_circle:")


def deadline_text(days_left: int, state: str) -> str:
    """"3 days left" / "due today" / "overdue by 2 days" / "closed", as the state says."""
    if state == DeadlineState.CLOSED:
        return ui.t("deadline_state.closed")
    if state == DeadlineState.OVERDUE:
        return ui.t("deadline.overdue_by", days=-days_left)
    if days_left == 0:
        return ui.t("deadline.due_today")
    return ui.t("deadline.days_left", days=days_left)


_STATE_COLOURS = {DeadlineState.OVERDUE: "color: #c62828; font-weight: 600",
                  DeadlineState.DUE_SOON: "color: #ef6c00"}


def styled_deadlines(shown: pd.DataFrame, states: pd.Series, column: str):
    """Colour the deadline column: red when overdue, orange when due soon (no emoji fonts
    needed: intranet PCs often lack them)."""
    colours = [_STATE_COLOURS.get(s, "") for s in states]
    return shown.style.apply(lambda _col: colours, subset=[column])


def green_mark(green: object) -> str:
    """The green-channel mark shown wherever a case appears."""
    return ui.t("case.green_short") if bool(green) else ""


def case_link(case_id: int, code: str) -> str:
    """A relative deep link whose fragment carries the code, for LinkColumn's display text."""
    return case_url(case_id, fragment=code)


def _case_columns(frame: pd.DataFrame) -> dict[str, object]:
    """The columns every case table starts with: link, green channel, title, track, status."""
    return {
        ui.t("tbl.case"): [case_link(i, c) for i, c in zip(frame["id"], frame["code"], strict=True)],
        ui.t("tbl.green"): [green_mark(g) for g in frame["green_channel"]],
        ui.t("case.field.title"): frame["title"],
        ui.t("case.field.track"): [ui.t(f"track.{v}") for v in frame["track"]],
        ui.t("tbl.status"): [ui.t(f"status.{v}") for v in frame["status"]],
    }


def _days_left_column(frame: pd.DataFrame) -> dict[str, list[str]]:
    return {ui.t("tbl.days_left"): [deadline_text(d, s) for d, s in
                                    zip(frame["days_left"], frame["deadline_state"], strict=True)]}


def _draw_cases(shown: pd.DataFrame, frame: pd.DataFrame) -> None:
    styled = styled_deadlines(shown, frame["deadline_state"], ui.t("tbl.days_left"))
    st.dataframe(styled, hide_index=True, width="stretch", column_config={
        ui.t("tbl.case"): st.column_config.LinkColumn(display_text=r"#(.+)$"),
    })


def backlog_table(frame: pd.DataFrame, *, show_grid: bool = False) -> None:
    """The open-case backlog: overdue first, deadline flags, green channel marked."""
    if frame.empty:
        st.caption(ui.t("backlog.empty"))
        return
    shown = pd.DataFrame({
        **_case_columns(frame),
        ui.t("tbl.deadline"): frame["deadline"],
        **_days_left_column(frame),
        ui.t("case.field.responsible"): frame["responsible"],
        ui.t("case.field.leader"): frame["leader"].fillna(""),
        ui.t("tbl.household"): frame["household"].fillna(""),
    })
    if show_grid:
        shown.insert(4, ui.t("tbl.grid"), frame["grid"])
    _draw_cases(shown, frame)
    download_table(shown.assign(**{ui.t("tbl.case"): frame["code"].to_numpy()}),
                   name=ui.t("export.backlog"), key="export_backlog")


def case_list_table(frame: pd.DataFrame) -> None:
    """Every case about one household, open or closed, with when it was registered."""
    shown = pd.DataFrame({
        **_case_columns(frame),
        ui.t("case.opened_on"): frame["opened_on"],
        **_days_left_column(frame),
    })
    _draw_cases(shown, frame)


def _risk(level: object) -> str:
    return ui.t(f"risk.{int(level)}") if pd.notna(level) else ""


def timeline_table(frame: pd.DataFrame) -> None:
    """Diary entries newest first, with any case opened from them (green channel marked)."""
    if frame.empty:
        st.caption(ui.t("diary.empty"))
        return
    cases = [case_link(i, c) if pd.notna(i) else None
             for i, c in zip(frame["case_id"], frame["case_code"], strict=True)]
    shown = pd.DataFrame({
        ui.t("diary.field.entry_date"): frame["entry_date"],
        ui.t("diary.field.kind"): [ui.t(f"kind.{v}") for v in frame["kind"]],
        ui.t("diary.field.source"): [ui.t(f"source.{v}") for v in frame["source"]],
        ui.t("diary.field.text"): frame["text"],
        ui.t("diary.field.risk_level"): [_risk(v) for v in frame["risk_level"]],
        ui.t("diary.field.household_id"): frame["household"].fillna(""),
        ui.t("diary.field.cadre_id"): frame["cadre"],
        ui.t("diary.reception"): [
            ui.t("diary.reception_counts", people=int(p), opinions=int(o)) if pd.notna(p) else ""
            for p, o in zip(frame["people_received"], frame["opinions_taken"], strict=True)],
        ui.t("tbl.case"): cases,
        ui.t("tbl.green"): [green_mark(g) if pd.notna(g) else "" for g in frame["green_channel"]],
    })
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        ui.t("tbl.case"): st.column_config.LinkColumn(display_text=r"#(.+)$"),
        ui.t("diary.field.text"): st.column_config.TextColumn(width="large"),
    })
    download_table(shown.assign(**{ui.t("tbl.case"): frame["case_code"].to_numpy()}),
                   name=ui.t("export.diary"), key="export_diary")


def households_table(points: pd.DataFrame) -> None:
    """The grid's households, special-care tags first, each linking to its family archive."""
    if points.empty:
        st.caption(ui.t("household.none"))
        return
    tags = [(ui.t("punct.list").join(ui.t(f"tag.{t}") for t in str(raw or "").split(",") if t)) for raw in
            points["tags"]]
    shown = pd.DataFrame({
        ui.t("tbl.household"): [household_url(i, fragment=n) for i, n in
                                zip(points["household_id"], points["head_name"], strict=True)],
        ui.t("household.tags"): tags,
        ui.t("household.size"): points["size"],
        ui.t("household.phone"): points["phone"],
        ui.t("household.address"): points["address"],
    }).sort_values(ui.t("household.tags"), ascending=False, kind="stable")
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        ui.t("tbl.household"): st.column_config.LinkColumn(display_text=r"#(.+)$"),
    })


def people_tables(group: pd.DataFrame, pairings: pd.DataFrame) -> None:
    """The grid's service group with contacts, and the cadres paired with its backbone members."""
    st.subheader(ui.t("grid.group"))
    st.dataframe(pd.DataFrame({
        ui.t("tbl.role"): [ui.t(f"role.{r}") for r in group["role"]],
        ui.t("tbl.name"): group["name"], ui.t("tbl.phone"): group["phone"],
    }), hide_index=True, width="stretch")
    st.subheader(ui.t("grid.pairings"))
    st.dataframe(pd.DataFrame({
        ui.t("tbl.level"): [ui.t(f"level.{v}") for v in pairings["level"]],
        ui.t("tbl.cadre"): pairings["cadre"], ui.t("tbl.unit"): pairings["unit"],
        ui.t("tbl.phone"): pairings["phone"], ui.t("tbl.paired_with"): pairings["member"],
        ui.t("tbl.role"): [ui.t(f"role.{v}") for v in pairings["member_role"]],
    }), hide_index=True, width="stretch")
