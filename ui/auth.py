"""Sign-in for the Streamlit app: the gate app.py runs first, the signed cookie, sign-out.

A Streamlit session ends when the browser reloads, so a sign-in is kept in a cookie that every new
session (a reload, a link opened in a new tab) reads back through ``st.context.cookies``:

* the cookie holds a random session token signed with HMAC-SHA256 (:func:`minqing.accounts.sign`);
  the store keeps only the token's SHA-256, so the cookie alone is worthless once revoked;
* Streamlit can read cookies but not set them, so the cookie is written by a few lines of our own
  JavaScript (``st.html(..., unsafe_allow_javascript=True)``, holding nothing but the signed token)
  with ``SameSite=Strict`` and ``Secure`` over HTTPS. That cannot make it ``HttpOnly``; what limits
  a stolen cookie is that sessions expire after ``MINQING_IDLE_MINUTES`` unused, sign-out, a
  password reset or disabling revoke them in the store at once, and the app runs no script but its
  own (stored text is escaped: :mod:`ui.safe`);
* a wall display has no keyboard: ``?token=`` in its URL signs it in as its display account
  (:func:`minqing.accounts.create_display_token`), with no cookie;
* single sign-on, when ``[auth]`` is configured in ``.streamlit/secrets.toml``, goes through
  ``st.login()``; the identity is mapped to an account by :func:`minqing.accounts.account_for_identity`.

Each run rebuilds the viewer from the store, so a disabled account or a changed role takes effect
on the next click.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

import ui
from minqing import accounts, audit
from minqing.clock import now as clock_now
from minqing.scope import Viewer
from minqing.settings import load_settings
from ui.safe import md

COOKIE = "minqing_session"
COOKIE_HOURS = 12
_VIEWER = ui.VIEWER_KEY
_TOKEN = "_auth_token"
_LAST = "_auth_last_activity"
_NOTICE = "_auth_notice"
_DROP_COOKIE = "_auth_drop_cookie"
_FORM = "_auth_form_gen"


def _cookie_token() -> str | None:
    try:
        raw = st.context.cookies.get(COOKIE)
    except Exception:  # no browser context (AppTest, bare script run)
        return None
    return accounts.unsign(raw, accounts.signing_key(ui.engine())) if raw else None


def sign_in_session(viewer: Viewer, token: str | None = None) -> None:
    """Make ``viewer`` the signed-in account of this Streamlit session."""
    for key in [k for k in st.session_state if not str(k).startswith("_auth")]:
        if key != "lang":
            del st.session_state[key]  # nothing from a previous account survives
    st.session_state[_VIEWER] = viewer
    st.session_state[_TOKEN] = token
    st.session_state[_LAST] = clock_now()
    st.session_state.pop(_DROP_COOKIE, None)


def sign_out(*, notice: str | None = None) -> None:
    """Revoke this session's token, forget the viewer, and delete the cookie on the next run."""
    token = st.session_state.pop(_TOKEN, None)
    viewer = st.session_state.pop(_VIEWER, None)
    if token:
        accounts.revoke(ui.engine(), token)
    if viewer is not None:
        action = audit.AuditAction.SIGN_OUT if notice is None else audit.AuditAction.SESSION_EXPIRED
        audit.record(ui.engine(), action, account_id=viewer.account_id, username=viewer.username)
    st.session_state.pop(_LAST, None)
    st.session_state[_DROP_COOKIE] = True
    if notice:
        st.session_state[_NOTICE] = notice


def _idle_expired(now: dt.datetime) -> bool:
    last = st.session_state.get(_LAST)
    return last is not None and now - last > dt.timedelta(minutes=load_settings().idle_minutes)


def _restore() -> Viewer | None:
    """The viewer of a display token in the URL, or of the signed session cookie."""
    engine = ui.engine()
    display = st.query_params.get("token")
    if display:
        viewer = accounts.resume(engine, display, kind=accounts.DISPLAY)
        if viewer is not None:
            sign_in_session(viewer, None)
            st.session_state[_TOKEN + "_display"] = display
            return viewer
    if st.session_state.get(_DROP_COOKIE):
        return None  # signed out in this session: do not resume from the stale cookie
    token = _cookie_token()
    viewer = accounts.resume(engine, token) if token else None
    if viewer is not None:
        sign_in_session(viewer, token)
    return viewer


def current_viewer() -> Viewer | None:
    """The signed-in viewer for this run (refreshed from the store), or None."""
    engine, now = ui.engine(), clock_now()
    viewer = st.session_state.get(_VIEWER)
    if viewer is None:
        return _restore()
    if _idle_expired(now):
        sign_out(notice="auth.expired")
        return None
    display = st.session_state.get(_TOKEN + "_display")
    token = st.session_state.get(_TOKEN)
    if display:
        fresh = accounts.resume(engine, display, kind=accounts.DISPLAY, now=now)
    elif token:
        fresh = accounts.resume(engine, token, now=now)
    else:
        fresh = accounts.account_by_id(engine, viewer.account_id)
    if fresh is None:
        sign_out(notice="auth.expired")
        return None
    st.session_state[_VIEWER] = fresh
    st.session_state[_LAST] = now
    return fresh


def write_cookie() -> None:
    """Keep the browser's cookie in step with this session (set it, or delete it once)."""
    secure = "; Secure" if str(getattr(st.context, "url", "") or "").startswith("https") else ""
    token = st.session_state.get(_TOKEN)
    if token:
        value = accounts.sign(token, accounts.signing_key(ui.engine()))
        cookie = f"{COOKIE}={value}; Path=/; Max-Age={COOKIE_HOURS * 3600}; SameSite=Strict{secure}"
    elif st.session_state.pop(_DROP_COOKIE, False):
        cookie = f"{COOKIE}=; Path=/; Max-Age=0; SameSite=Strict{secure}"
    else:
        return
    # the value is our own signed token (URL-safe base64 and hex): nothing typed or stored
    st.html(f"<script>document.cookie = {cookie!r};</script>", unsafe_allow_javascript=True)


# --- the forms ---------------------------------------------------------------------------------


def _sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _sso() -> None:
    """Single sign-on through st.login, then the identity mapped to an account."""
    if not _sso_configured():
        return
    user = st.user
    if user.get("is_logged_in"):
        outcome = accounts.account_for_identity(ui.engine(), subject=str(user.get("sub", "")),
                                                email=user.get("email"))
        if outcome.viewer is not None:
            sign_in_session(outcome.viewer, accounts.open_token(ui.engine(),
                                                                outcome.viewer.account_id))
            st.rerun()
        st.error(ui.t(outcome.refusal or "accounts.error.sso_no_account"))
        st.button(ui.t("auth.sso_other"), on_click=st.logout)
        return
    st.button(ui.t("auth.sso"), on_click=st.login, icon=":material/badge:")


def _refusal(outcome: accounts.SignIn) -> str:
    if outcome.locked_until is not None:
        return ui.t("accounts.error.locked", until=outcome.locked_until.strftime("%H:%M"))
    return ui.t(outcome.refusal or "accounts.error.bad_credentials")


def sign_in_form() -> None:
    """The sign-in page: what every signed-out visitor sees, whatever address they opened."""
    st.title(ui.t("app.title"))
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.info(ui.t(notice), icon=":material/schedule:")
    gen = st.session_state.setdefault(_FORM, 0)
    with st.form(f"sign_in_{gen}", border=True):
        st.subheader(ui.t("auth.title"))
        username = st.text_input(ui.t("auth.username"), key=f"auth_user_{gen}")
        password = st.text_input(ui.t("auth.password"), type="password", key=f"auth_pw_{gen}")
        submitted = st.form_submit_button(ui.t("auth.submit"), type="primary")
    if submitted:
        outcome = accounts.authenticate(ui.engine(), username, password)
        if outcome.viewer is None:
            st.error(_refusal(outcome), icon=":material/lock:")
        else:
            token = accounts.open_token(ui.engine(), outcome.viewer.account_id)
            sign_in_session(outcome.viewer, token)
            st.session_state[_FORM] = gen + 1
            st.rerun()
    _sso()
    if ui.is_demo():
        with st.expander(ui.t("auth.demo_accounts")):
            from minqing.demo.accounts import DEMO_ACCOUNTS

            st.dataframe([{ui.t("auth.username"): a.username, ui.t("auth.password"): a.password,
                           ui.t("accounts.role"): ui.t(f"account_role.{a.role}")}
                          for a in DEMO_ACCOUNTS], hide_index=True)


def change_password_form(viewer: Viewer, *, forced: bool) -> None:
    """The holder's own password change; the only page shown while a change is forced."""
    if forced:
        st.title(ui.t("auth.change_title"))
        st.info(ui.t("auth.change_forced"), icon=":material/password:")
    with st.form("change_password", border=True):
        old = st.text_input(ui.t("auth.old_password"), type="password")
        new = st.text_input(ui.t("auth.new_password"), type="password",
                            help=ui.t("auth.password_rule", n=accounts.MIN_PASSWORD))
        again = st.text_input(ui.t("auth.new_password_again"), type="password")
        submitted = st.form_submit_button(ui.t("auth.change_submit"), type="primary")
    if not submitted:
        return
    if new != again:
        st.error(ui.t("auth.mismatch"))
        return
    from minqing.errors import DomainError

    try:
        accounts.change_password(ui.engine(), account_id=viewer.account_id, old_password=old,
                                 new_password=new)
    except DomainError as exc:
        st.error(exc.message(ui.lang()))
        return
    st.session_state[_NOTICE] = "auth.changed"
    st.rerun()


def needs_password_change(viewer: Viewer) -> bool:
    return accounts.needs_password_change(ui.engine(), viewer.account_id)


def account_box(viewer: Viewer) -> None:
    """Who is signed in, in which role and jurisdiction, and the sign-out button (sidebar)."""
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.sidebar.success(ui.t(notice))
    role = ui.t(f"account_role.{viewer.role}")
    st.sidebar.caption(f":material/person: {md(viewer.name)} · {role}  \n"
                       f"{md(ui.jurisdiction_name(viewer))}")
    if st.session_state.get(_TOKEN + "_display"):
        return  # a wall display signed in by its URL token has no one to sign out
    if st.sidebar.button(ui.t("auth.sign_out"), icon=":material/logout:", key="auth_sign_out"):
        sign_out()
        if _sso_configured() and st.user.get("is_logged_in"):
            st.logout()
        st.rerun()
