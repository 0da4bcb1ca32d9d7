"""Audit trail (审计日志): sign-ins and failures, unmasked views of personal data, exports and
every account change, newest first. Append-only in the store; offered to the admin only."""

from __future__ import annotations

import streamlit as st

import ui
from minqing import audit


def page() -> None:
    st.title(ui.t("nav.audit"))
    st.caption(ui.t("audit.note"))
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    actions = c1.multiselect(ui.t("audit.action"), [a.value for a in audit.AuditAction],
                             format_func=lambda a: ui.t(f"audit.action.{a}"),
                             placeholder=ui.t("grid.filter_all"), key="audit_actions")
    username = c2.text_input(ui.t("auth.username"), key="audit_user")
    span = c3.date_input(ui.t("grid.dates"), value=(), key="audit_dates")
    text = c4.text_input(ui.t("audit.text"), key="audit_text")
    since, until = ((*tuple(span), None, None))[:2] if span else (None, None)
    rows = audit.search(ui.engine(), scope=ui.viewer().scope(), actions=tuple(actions),
                        username=username, since=since, until=until, text=text)
    st.caption(ui.t("audit.count", n=len(rows)))
    rows["action"] = [ui.t(f"audit.action.{a}") for a in rows["action"]]
    st.dataframe(rows.drop(columns="id").rename(columns={
        "at": ui.t("audit.at"), "username": ui.t("auth.username"),
        "action": ui.t("audit.action"), "target": ui.t("audit.target"),
        "detail": ui.t("audit.detail")}), hide_index=True, width="stretch")


page()
