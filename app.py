"""Minqing entry point: language, town picker, navigation. Pages do the rest."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from sqlalchemy.exc import DBAPIError

import ui
import ui.display
from minqing import i18n
from minqing.registry import has_data
from minqing.store import transient_kind

ROOT = Path(__file__).resolve().parent


def _language() -> None:
    if "lang" not in st.session_state:
        st.session_state.lang = "en" if st.query_params.get("lang") == "en" else i18n.DEFAULT_LANG
    st.sidebar.radio(
        i18n.t("app.language", ui.lang()), i18n.LANGS, key="lang", horizontal=True,
        format_func=lambda code: {"zh": "中文", "en": "English"}[code],
    )


def _town_picker() -> None:
    """A town picker that scopes every page and follows ``?town=`` deep links."""
    choices = ui.towns(ui.engine(), ui.version())
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


def _no_data() -> None:
    st.title(ui.t("app.title"))
    st.warning(ui.t("app.no_database"))
    st.page_link("app_pages/data.py", label=ui.t("data.empty_hint"), icon=":material/upload_file:")


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


def _run_pages() -> None:
    data_page = st.Page("app_pages/data.py", title=ui.t("data.nav"), icon=":material/upload_file:",
                        url_path="data")
    if not has_data(ui.engine()):  # an empty store: the landing page, or import a district
        st.navigation([st.Page(_no_data, title=ui.t("app.title"), default=True), data_page],
                      position="hidden").run()
        return
    _town_picker()
    pages = {
        ui.t("nav.section.browse"): [
            # Streamlit serves the default page at "/" only; the hidden twin answers the address
            # users copy after following an in-app link (/overview). "home" is never linked.
            st.Page("app_pages/overview.py", title=ui.t("nav.overview"),
                    icon=":material/dashboard:", url_path="home", default=True),
            st.Page("app_pages/overview.py", title=ui.t("nav.overview"),
                    icon=":material/dashboard:", url_path="overview", visibility="hidden"),
            st.Page("app_pages/map.py", title=ui.t("nav.map"), icon=":material/map:", url_path="map"),
        ],
        ui.t("nav.section.records"): [
            st.Page("app_pages/grid.py", title=ui.t("nav.grid"), icon=":material/grid_view:",
                    url_path="grid"),
            st.Page("app_pages/case.py", title=ui.t("nav.case"), icon=":material/assignment:",
                    url_path="case"),
            st.Page("app_pages/household.py", title=ui.t("nav.household"), icon=":material/home:",
                    url_path="household"),
        ],
        ui.t("nav.section.supervision"): [
            st.Page("app_pages/review.py", title=ui.t("nav.review"), icon=":material/rate_review:",
                    url_path="review"),
            st.Page("app_pages/consultation.py", title=ui.t("nav.consultation"),
                    icon=":material/groups:", url_path="consultation"),
            st.Page("app_pages/followup.py", title=ui.t("nav.followup"),
                    icon=":material/event_repeat:", url_path="followup"),
            st.Page("app_pages/verification.py", title=ui.t("nav.verification"),
                    icon=":material/fact_check:", url_path="verification"),
            st.Page("app_pages/scoring.py", title=ui.t("nav.scoring"),
                    icon=":material/military_tech:", url_path="scoring"),
            st.Page("app_pages/kpis.py", title=ui.t("nav.kpis"), icon=":material/monitoring:",
                    url_path="kpis"),
        ],
        ui.t("nav.section.planning"): [
            st.Page("app_pages/planner.py", title=ui.t("nav.planner"),
                    icon=":material/architecture:", url_path="planner"),
        ],
        ui.t("data.nav_section"): [data_page],
    }
    st.navigation(pages).run()


run()
