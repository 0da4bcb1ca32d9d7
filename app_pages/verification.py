"""Quarterly verification (季度核查, ``?quarter=2026Q3``): every item unfinished at the quarter's
end, verified or not by the township's leaders, and the share verified by town."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from minqing.errors import DomainError
from minqing.supervision import verification as v
from ui.casework import flash, show_refusal
from ui.supervision import (
    actor,
    blank,
    case_table,
    export_button,
    show_table,
    town_filter,
)

FLASH = "_verify_flash"


def _quarter() -> str:
    quarters = v.recent_quarters()
    linked = st.query_params.get("quarter")
    if linked in quarters and st.session_state.get("_linked_quarter") != linked:
        st.session_state.quarter = linked
        st.session_state._linked_quarter = linked
    if st.session_state.get("quarter") not in quarters:
        st.session_state.quarter = quarters[0]
    quarter = st.selectbox(ui.t("verify.quarter"), quarters, key="quarter")
    st.query_params["quarter"] = quarter
    return quarter


def _result(verified: object) -> str:
    if verified is None or pd.isna(verified):
        return ui.t("verify.pending")
    return ui.t("verify.yes" if bool(verified) else "verify.no")


def _form(items: pd.DataFrame, quarter: str) -> None:
    todo = items[items["verified"].isna()]
    if todo.empty:
        return
    labels = {int(r.case_id): f"{r.code} · {r.title}" for r in todo.itertuples()}
    case_id = st.selectbox(ui.t("verify.pick"), list(labels), format_func=labels.get)
    with st.form(f"verify_{case_id}_{st.session_state.get('_verify_gen', 0)}", border=True):
        verified = st.radio(ui.t("verify.field.verified"), [True, False], horizontal=True,
                            format_func=lambda b: ui.t("verify.yes" if b else "verify.no"))
        note = st.text_area(ui.t("verify.field.note"), height=70)
        submitted = st.form_submit_button(ui.t("verify.submit"), type="primary")
    if not submitted:
        return
    try:
        v.verify(ui.engine(), scope=ui.current_scope(), case_id=case_id, quarter=quarter,
                 verified=verified, verifier=actor(), note=note)
    except DomainError as exc:
        show_refusal(exc)
        return
    st.session_state["_verify_gen"] = st.session_state.get("_verify_gen", 0) + 1
    st.session_state[FLASH] = ui.t("verify.saved", code=labels[case_id].split(" · ")[0])
    st.rerun()


def page() -> None:
    st.title(ui.t("verify.title"))
    ui.demo_badge()
    st.caption(ui.t("verify.caption"))
    quarter = _quarter()
    flash(FLASH)
    scope = ui.current_scope()
    share = v.share_by_town(ui.engine(), scope=scope, quarter=quarter)
    st.subheader(ui.t("verify.by_town"))
    by_town = pd.DataFrame({
        ui.t("sv.col.town"): share["town"], ui.t("verify.col.unfinished"): share["unfinished"],
        ui.t("verify.col.checked"): share["checked"], ui.t("verify.col.verified"): share["verified"],
        ui.t("verify.col.share"): (share["share"] * 100).round(1),
    })
    show_table(by_town)
    export_button(by_town, title=ui.t("verify.by_town"), file=f"verification-{quarter}-towns",
                  filters=[(ui.t("verify.quarter"), quarter), town_filter()])
    items = v.unfinished_items(ui.engine(), scope=scope, quarter=quarter)
    st.subheader(ui.t("verify.items", n=len(items)))
    only = st.toggle(ui.t("verify.only_pending"), value=False)
    if only:
        items = items[items["verified"].isna()]
    shown = case_table(items, {
        ui.t("sv.col.town"): items["town"],
        ui.t("verify.col.closed_on"): blank(items["closed_on"]),
        ui.t("verify.col.result"): [_result(x) for x in items["verified"]],
        ui.t("verify.col.verifier"): items["verifier"].fillna(""),
        ui.t("verify.col.note"): items["note"].fillna(""),
    })
    show_table(shown)
    export_button(shown, title=ui.t("verify.items", n=len(items)), file=f"verification-{quarter}",
                  filters=[(ui.t("verify.quarter"), quarter), town_filter(),
                           (ui.t("verify.only_pending"),
                            ui.t("case.value.yes" if only else "case.value.no"))])
    _form(items, quarter)


page()
