"""Accounts (账号管理): create accounts, change role and jurisdiction, disable, reset passwords,
and the wall displays' URL tokens. Offered to the admin and the data officer only."""

from __future__ import annotations

import streamlit as st

import ui
from minqing import accounts
from ui import accountforms


def page() -> None:
    st.title(ui.t("nav.accounts"))
    accountforms.rules_note()
    frame = accounts.list_accounts(ui.engine(), scope=ui.viewer().scope())
    accountforms.account_table(frame)
    tab_new, tab_edit, tab_tokens = st.tabs([
        f":material/person_add: {ui.t('accounts.tab.new')}",
        f":material/edit: {ui.t('accounts.tab.edit')}",
        f":material/tv: {ui.t('accounts.tab.tokens')}"])
    with tab_new:
        accountforms.create_form()
    with tab_edit:
        accountforms.edit_form(frame)
    with tab_tokens:
        accountforms.display_tokens(frame)


page()
