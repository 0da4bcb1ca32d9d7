"""Minqing entry point: language, sign-in gate, town picker, navigation. Pages do the rest.

Nothing but the sign-in form runs until a viewer is signed in (``ui.auth``); each role is offered
only its pages (``_pages``), and every page reads through ``ui.current_scope()``, the viewer's
jurisdiction narrowed by the town picker.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from sqlalchemy.exc import DBAPIError

import ui
import ui.display
from minqing import i18n
from minqing.access import (
    AGGREGATES_ONLY,
    MANAGES_ACCOUNTS,
    MOVES_DATA,
    PLANS_GRIDS,
    READS_AUDIT,
    SUPERVISES,
    Role,
)
from minqing.registry import has_data, has_schema
from minqing.scope import Viewer
from minqing.store import transient_kind
from ui import auth

ROOT = Path(__file__).resolve().parent


def _language() -> None:
    if "lang" not in st.session_state:
        st.session_state.lang = "en" if st.query_params.get("lang") == "en" else i18n.DEFAULT_LANG
    st.sidebar.radio(
        i18n.t("app.language", ui.lang()), i18n.LANGS, key="lang", horizontal=True,
        format_func=lambda code: {"zh": "中文", "en": "English"}[code],
    )


def _town_picker(viewer: Viewer) -> None:
    """A town picker that narrows a district-wide viewer and follows ``?town=`` deep links."""
    if viewer.level != "district":
        st.session_state.town_id = None
        return
    choices = ui.towns(ui.engine(), ui.version(), viewer.scope())
    ids = [None, *[town_id for town_id, _ in choices]]
    names = dict(choices)
    linked = ui.query_int("town")
    if linked in names and st.session_state.get("_linked_town") != linked:
        st.session_state.town_id = linked
        st.session_state._linked_town = linked
    if st.session_state.get("town_id") not in ids:
        st.session_state.town_id = None
    st.sidebar.selectbox(
        ui.t("app.town"), ids, key="town_id",
        format_func=lambda town_id: ui.t("app.all_towns") if town_id is None else names[town_id],
    )
    if st.session_state.town_id is None:
        st.query_params.pop("town", None)
    else:
        st.query_params["town"] = str(st.session_state.town_id)


def _pages(viewer: Viewer | None) -> dict[str, list]:
    """The pages the viewer's role may open; a deep link to any other lands on the default.

    Signed out (``None``): every page, registered hidden and never run, so that the address a
    visitor opened (``/household?household=9``) is still there once they have signed in.
    """
    role = Role.ADMIN if viewer is None else Role(viewer.role)
    browse = [
        # Streamlit serves the default page at "/" only; the hidden twin answers the address
        # users copy after following an in-app link (/overview). "home" is never linked.
        st.Page("app_pages/overview.py", title=ui.t("nav.overview"),
                icon=":material/dashboard:", url_path="home", default=True),
        st.Page("app_pages/overview.py", title=ui.t("nav.overview"),
                icon=":material/dashboard:", url_path="overview", visibility="hidden"),
    ]
    pages = {ui.t("nav.section.browse"): browse}
    if role in AGGREGATES_ONLY:
        return pages
    browse.append(st.Page("app_pages/map.py", title=ui.t("nav.map"), icon=":material/map:",
                          url_path="map"))
    pages[ui.t("nav.section.records")] = [
        st.Page("app_pages/grid.py", title=ui.t("nav.grid"), icon=":material/grid_view:",
                url_path="grid"),
        st.Page("app_pages/case.py", title=ui.t("nav.case"), icon=":material/assignment:",
                url_path="case"),
        st.Page("app_pages/household.py", title=ui.t("nav.household"), icon=":material/home:",
                url_path="household"),
    ]
    if role in SUPERVISES or viewer is None:
        pages[ui.t("nav.section.supervision")] = [
            st.Page("app_pages/review.py", title=ui.t("nav.review"),
                    icon=":material/rate_review:", url_path="review"),
            st.Page("app_pages/consultation.py", title=ui.t("nav.consultation"),
                    icon=":material/groups:", url_path="consultation"),
            st.Page("app_pages/followup.py", title=ui.t("nav.followup"),
                    icon=":material/event_repeat:", url_path="followup"),
            st.Page("app_pages/verification.py", title=ui.t("nav.verification"),
                    icon=":material/fact_check:", url_path="verification"),
            st.Page("app_pages/scoring.py", title=ui.t("nav.scoring"),
                    icon=":material/military_tech:", url_path="scoring"),
        ]
    pages.setdefault(ui.t("nav.section.supervision"), []).append(
        st.Page("app_pages/kpis.py", title=ui.t("nav.kpis"), icon=":material/monitoring:",
                url_path="kpis"))
    if role in PLANS_GRIDS or viewer is None:
        pages[ui.t("nav.section.planning")] = [
            st.Page("app_pages/planner.py", title=ui.t("nav.planner"),
                    icon=":material/architecture:", url_path="planner")]
    if role in MOVES_DATA or viewer is None:
        pages[ui.t("data.nav_section")] = [_data_page()]
    admin = []
    if role in MANAGES_ACCOUNTS or viewer is None:
        admin.append(st.Page("app_pages/accounts.py", title=ui.t("nav.accounts"),
                             icon=":material/manage_accounts:", url_path="accounts"))
    if role in READS_AUDIT:
        admin.append(st.Page("app_pages/audit.py", title=ui.t("nav.audit"),
                             icon=":material/policy:", url_path="audit"))
    if admin:
        pages[ui.t("nav.section.admin")] = admin
    return pages


def run() -> None:
    st.set_page_config(page_title="民情 Minqing", page_icon=str(ROOT / "static" / "favicon.png"), layout="wide")
    if ui.display.requested():  # the wall display: its own full screen, configured by its URL
        ui.display.route()
        return
    _language()
    try:
        _run_pages()
    except DBAPIError as exc:  # a read while the database restarts or stays locked
        if transient_kind(exc) is None:
            raise
        st.error(ui.t("store.page_unavailable"), icon=":material/cloud_off:")


def _data_page():
    return st.Page("app_pages/data.py", title=ui.t("data.nav"), icon=":material/upload_file:",
                   url_path="data")


def _no_data(link: bool = True) -> None:
    st.title(ui.t("app.title"))
    st.warning(ui.t("app.no_database"))
    if link:
        st.page_link("app_pages/data.py", label=ui.t("data.empty_hint"),
                     icon=":material/upload_file:")


def _run_pages() -> None:
    if not has_schema(ui.engine()):
        st.title(ui.t("app.title"))
        st.warning(ui.t("app.no_database"))
        return
    viewer = auth.current_viewer()
    auth.write_cookie()
    if viewer is None or auth.needs_password_change(viewer):
        st.navigation(_pages(None), position="hidden")  # keeps the address; runs no page
        if viewer is None:
            auth.sign_in_form()
        else:
            auth.account_box(viewer)
            auth.change_password_form(viewer, forced=True)
        return
    auth.account_box(viewer)
    if not has_data(ui.engine()):  # an empty store: a data officer imports the district first
        if Role(viewer.role) not in MOVES_DATA:
            _no_data(link=False)
            return
        # the landing page is the default ("/"); the data page keeps its own address (/data)
        st.navigation([st.Page(_no_data, title=ui.t("app.title"), default=True), _data_page()],
                      position="hidden").run()
        return
    _town_picker(viewer)
    st.navigation(_pages(viewer)).run()


run()
