"""Streamlit glue shared by app.py and the pages: engine, language, viewer and scope, deep links.

``ui`` (this package: shared state here, page widgets in :mod:`ui.casework` and
:mod:`ui.caseforms`) is, with app.py and the pages, the only code that imports streamlit; the
packages below it (``minqing``, ``geo``) never do, and nothing here writes SQL.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from minqing import i18n
from minqing.accounts import jurisdiction_label
from minqing.links import mount_base, parse_id
from minqing.registry import data_version, dataset_info, town_choices
from minqing.scope import Scope, Viewer
from minqing.settings import load_settings
from minqing.store import get_engine


@st.cache_resource
def _engine_for(url: str) -> Engine:
    return get_engine(url)


def engine() -> Engine:
    """The shared engine for the configured URL (thread-safe; one pool per app process)."""
    return _engine_for(load_settings().database_url)


def link_base() -> str:
    """Where links from the maps' popups start: the app's mount path (``server.baseUrlPath``)."""
    return mount_base(st.get_option("server.baseUrlPath"))


def lang() -> str:
    return st.session_state.get("lang", i18n.DEFAULT_LANG)


def t(key: str, **fmt: object) -> str:
    return i18n.t(key, lang(), **fmt)


def version() -> str:
    """The data version: part of every ``st.cache_data`` key, so a write invalidates results."""
    return data_version(engine())


@st.cache_data(ttl=300)
def _towns(_engine: Engine, data_version: str, scope: Scope) -> list[tuple[int, str]]:
    return town_choices(_engine, scope=scope)


def towns(_engine: Engine, data_version: str, scope: Scope | None = None) -> list[tuple[int, str]]:
    """(id, name) of the towns of ``scope`` (default: the signed-in viewer's jurisdiction)."""
    return _towns(_engine, data_version, viewer().scope() if scope is None else scope)


@st.cache_data(ttl=300)
def _dataset(_engine: Engine, data_version: str) -> dict[str, str]:
    return dataset_info(_engine)


def is_demo() -> bool:
    """True when the store holds the synthetic demo district."""
    return _dataset(engine(), version()).get("demo") == "1"


def query_int(name: str) -> int | None:
    """An id deep-link parameter (``?grid=12``), or None when absent, malformed or out of range
    (:func:`minqing.links.parse_id` says what is accepted)."""
    return parse_id(st.query_params.get(name))


def current_town() -> int | None:
    return st.session_state.get("town_id")


VIEWER_KEY = "_auth_viewer"  # set by ui.auth's gate in app.py; tests/auth.py sets it too


def viewer() -> Viewer:
    """The signed-in viewer (app.py's gate runs before any page, so a page always has one)."""
    signed_in = st.session_state.get(VIEWER_KEY)
    if signed_in is None:
        st.stop()
    return signed_in


def current_scope() -> Scope:
    """The viewer's jurisdiction as the town picker narrows it: every page reads through this."""
    return viewer().scope().narrowed_to_town(current_town())


def jurisdiction_name(who: Viewer) -> str:
    """"Whole district", or the name of the viewer's town, area or grid."""
    if who.level == "district":
        return t("app.all_towns")
    return jurisdiction_label(engine(), who.level, who.jurisdiction_id)


def demo_badge() -> None:
    st.caption(f":material/science: {t('app.demo_badge')}")
