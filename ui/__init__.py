"""Streamlit glue shared by app.py and the pages: engine, language, scope, deep links.

``ui`` (this package: shared state here, page widgets in :mod:`ui.casework` and
:mod:`ui.caseforms`) is, with app.py and the pages, the only code that imports streamlit; the
packages below it (``minqing``, ``geo``) never do, and nothing here writes SQL.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from minqing import i18n
from minqing.links import parse_id
from minqing.registry import data_version, town_choices
from minqing.scope import Scope
from minqing.settings import load_settings
from minqing.store import get_engine


@st.cache_resource
def _engine_for(url: str) -> Engine:
    return get_engine(url)


def engine() -> Engine:
    """The shared engine for the configured URL (thread-safe; one pool per app process)."""
    return _engine_for(load_settings().database_url)


def lang() -> str:
    return st.session_state.get("lang", i18n.DEFAULT_LANG)


def t(key: str, **fmt: object) -> str:
    return i18n.t(key, lang(), **fmt)


def version() -> str:
    """The data version: part of every ``st.cache_data`` key, so a write invalidates results."""
    return data_version(engine())


@st.cache_data(ttl=300)
def towns(_engine: Engine, data_version: str) -> list[tuple[int, str]]:
    return town_choices(_engine, scope=Scope.district())


def query_int(name: str) -> int | None:
    """An id deep-link parameter (``?grid=12``), or None when absent, malformed or out of range
    (:func:`minqing.links.parse_id` says what is accepted)."""
    return parse_id(st.query_params.get(name))


def current_town() -> int | None:
    return st.session_state.get("town_id")


def current_scope() -> Scope:
    """The caller's scope as the town picker narrows it (full jurisdiction rules come later)."""
    return Scope.district().narrowed_to_town(current_town())


def demo_badge() -> None:
    st.caption(f":material/science: {t('app.demo_badge')}")
