"""The accounts page's widgets: the account list, create, change, reset password, display tokens.

Every call goes through :mod:`minqing.accounts` with the viewer's scope, which refuses what the
viewer may not do (a higher role, a jurisdiction outside theirs); the widgets only offer what is
allowed, so the refusal is a second line, not the only one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pandas as pd
import streamlit as st

import ui
from minqing import accounts
from minqing.access import LEVELS, Role, can_manage
from minqing.errors import DomainError
from ui.casework import flash
from ui.safe import md

FLASH = "_accounts_flash"
_TOKEN_SHOWN = "_accounts_new_token"


def _role_label(code: str) -> str:
    return ui.t(f"account_role.{code}")


def _level_label(code: str) -> str:
    return ui.t(f"jurisdiction_level.{code}")


def _grantable() -> list[str]:
    me = ui.viewer()
    return [r.value for r in Role if can_manage(me.role, r)]


def _done(message: str) -> None:
    st.session_state[FLASH] = message
    st.session_state["_accounts_gen"] = st.session_state.get("_accounts_gen", 0) + 1
    st.rerun()


def _gen() -> int:
    return st.session_state.get("_accounts_gen", 0)


def account_table(frame: pd.DataFrame) -> None:
    flash(FLASH)
    shown = frame.assign(
        role=[_role_label(r) for r in frame["role"]],
        where=[ui.t("app.all_towns") if lv == "district" else
               accounts.jurisdiction_label(ui.engine(), lv, j)
               for lv, j in zip(frame["level"], frame["jurisdiction_id"], strict=True)],
        state=[ui.t("accounts.state.disabled") if d else ui.t("accounts.state.must_change")
               if m else ui.t("accounts.state.active")
               for d, m in zip(frame["disabled"], frame["must_change_password"], strict=True)],
    )
    st.dataframe(shown[["username", "name", "role", "where", "email", "state",
                        "last_sign_in_at"]].rename(columns={
        "username": ui.t("auth.username"), "name": ui.t("tbl.name"),
        "role": ui.t("accounts.role"), "where": ui.t("accounts.jurisdiction"),
        "email": ui.t("accounts.email"), "state": ui.t("accounts.state"),
        "last_sign_in_at": ui.t("accounts.last_sign_in")}), hide_index=True, width="stretch")


def _place(prefix: str, role: str, current: tuple[str, int | None] | None = None
           ) -> tuple[str, int | None]:
    """Level and jurisdiction pickers for ``role`` (outside a form: they depend on each other)."""
    levels = list(LEVELS[Role(role)])
    level = st.selectbox(ui.t("accounts.level"), levels, format_func=_level_label,
                         key=f"{prefix}_level_{role}",
                         index=levels.index(current[0]) if current and current[0] in levels else 0)
    if level == "district":
        return level, None
    options = accounts.jurisdiction_options(ui.engine(), scope=ui.viewer().scope(), level=level)
    ids = [i for i, _ in options]
    names = dict(options)
    index = ids.index(current[1]) if current and current[1] in ids else None
    picked = st.selectbox(ui.t("accounts.jurisdiction"), ids, index=index,
                          format_func=lambda i: names[i], key=f"{prefix}_place_{role}_{level}",
                          placeholder=ui.t("accounts.pick_place"))
    return level, picked


def create_form() -> None:
    gen = _gen()
    role = st.selectbox(ui.t("accounts.role"), _grantable(), format_func=_role_label,
                        key=f"new_role_{gen}")
    level, place = _place(f"new_{gen}", role)
    with st.form(f"new_account_{gen}", border=True):
        username = st.text_input(ui.t("auth.username"))
        name = st.text_input(ui.t("tbl.name"))
        email = st.text_input(ui.t("accounts.email"), help=ui.t("accounts.email_help"))
        password = st.text_input(ui.t("accounts.initial_password"), type="password",
                                 help=ui.t("accounts.initial_help"))
        submitted = st.form_submit_button(ui.t("accounts.create"), type="primary")
    if submitted:
        try:
            accounts.create_account(ui.engine(), by=ui.viewer().scope(), username=username,
                                    name=name, role=role, level=level, jurisdiction_id=place,
                                    password=password, email=email or None)
        except DomainError as exc:
            st.error(exc.message(ui.lang()))
            return
        _done(ui.t("accounts.created", username=username.strip().lower()))


def edit_form(frame: pd.DataFrame) -> None:
    grantable = set(_grantable())
    editable = frame[frame["role"].isin(grantable)]
    if editable.empty:
        st.caption(ui.t("accounts.none_editable"))
        return
    rows = {int(r.id): r for r in editable.itertuples()}
    account_id = st.selectbox(ui.t("accounts.pick"), list(rows), key="edit_pick",
                              format_func=lambda i: f"{rows[i].username} · {rows[i].name}")
    row = rows[account_id]
    gen = _gen()
    roles = sorted(grantable, key=lambda r: list(Role).index(Role(r)))
    role = st.selectbox(ui.t("accounts.role"), roles, index=roles.index(row.role),
                        format_func=_role_label, key=f"edit_role_{account_id}_{gen}")
    level, place = _place(f"edit_{account_id}_{gen}", role,
                          (row.level, None if pd.isna(row.jurisdiction_id)
                           else int(row.jurisdiction_id)))
    with st.form(f"edit_account_{account_id}_{gen}", border=True):
        name = st.text_input(ui.t("tbl.name"), value=row.name)
        email = st.text_input(ui.t("accounts.email"), value=row.email)
        disabled = st.checkbox(ui.t("accounts.disabled"), value=bool(row.disabled))
        saved = st.form_submit_button(ui.t("accounts.save"), type="primary")
    if saved:
        _apply(lambda: accounts.update_account(
            ui.engine(), by=ui.viewer().scope(), account_id=account_id, name=name, email=email,
            role=role, level=level, jurisdiction_id=place, disabled=disabled),
            ui.t("accounts.saved", username=row.username))
    with st.form(f"reset_{account_id}_{gen}", border=True):
        password = st.text_input(ui.t("accounts.temporary_password"), type="password",
                                 help=ui.t("accounts.initial_help"))
        reset = st.form_submit_button(ui.t("accounts.reset"))
    if reset:
        _apply(lambda: accounts.reset_password(ui.engine(), by=ui.viewer().scope(),
                                               account_id=account_id, new_password=password),
               ui.t("accounts.reset_done", username=row.username))


def _apply(change, message: str) -> None:
    try:
        change()
    except DomainError as exc:
        st.error(exc.message(ui.lang()))
        return
    _done(message)


def display_tokens(frame: pd.DataFrame) -> None:
    """Create a display's URL token (shown once) and revoke old ones."""
    shown = st.session_state.pop(_TOKEN_SHOWN, None)
    if shown:
        st.success(ui.t("accounts.token_created"), icon=":material/key:")
        st.code(shown, language=None)
    displays = frame[(frame["role"] == Role.DISPLAY.value) & ~frame["disabled"].astype(bool)]
    if displays.empty or not can_manage(ui.viewer().role, Role.DISPLAY):
        st.caption(ui.t("accounts.no_display"))
        return
    names = dict(zip(displays["id"].astype(int), displays["username"], strict=True))
    with st.form(f"new_token_{_gen()}", border=True):
        account_id = st.selectbox(ui.t("accounts.display_account"), list(names),
                                  format_func=names.get)
        label = st.text_input(ui.t("accounts.token_label"), help=ui.t("accounts.token_label_help"))
        made = st.form_submit_button(ui.t("accounts.token_create"), type="primary")
    if made:
        try:
            token = accounts.create_display_token(ui.engine(), by=ui.viewer().scope(),
                                                  account_id=account_id, label=label)
        except DomainError as exc:
            st.error(exc.message(ui.lang()))
            return
        st.session_state[_TOKEN_SHOWN] = f"{_base_url()}/display?token={token}"
        _done(ui.t("accounts.token_created"))
    tokens = accounts.display_tokens(ui.engine(), scope=ui.viewer().scope())
    if tokens.empty:
        return
    st.dataframe(tokens.drop(columns="id").rename(columns={
        "username": ui.t("auth.username"), "label": ui.t("accounts.token_label"),
        "created_at": ui.t("accounts.created_at"), "last_seen_at": ui.t("accounts.last_seen"),
        "revoked_at": ui.t("accounts.revoked_at")}), hide_index=True, width="stretch")
    live = tokens[tokens["revoked_at"].isna()]
    if live.empty:
        return
    labels = {int(r.id): f"{r.username} · {r.label or '—'} · {r.created_at}"
              for r in live.itertuples()}
    token_id = st.selectbox(ui.t("accounts.token_pick"), list(labels), format_func=labels.get,
                            key="revoke_pick")
    if st.button(ui.t("accounts.token_revoke"), icon=":material/block:"):
        _apply(lambda: accounts.revoke_display_token(ui.engine(), by=ui.viewer().scope(),
                                                     token_id=token_id),
               ui.t("accounts.token_revoked"))


def _base_url() -> str:
    """Scheme and host the browser used, so the display URL can be copied as it is."""
    url = urlsplit(str(getattr(st.context, "url", "") or ""))
    return f"{url.scheme}://{url.netloc}" if url.netloc else ""


def rules_note() -> None:
    me = ui.viewer()
    st.caption(ui.t("accounts.rules", role=_role_label(me.role),
                    where=md(ui.jurisdiction_name(me))))
