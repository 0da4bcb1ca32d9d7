"""The grid and case pages on a phone (360-430 px wide): what a cadre does there comes first.

Streamlit tells the server nothing about the screen, so the layout is decided in the browser by a
CSS media query over the page's keyed containers (``st.container(key=...)`` renders a block with
the class ``st-key-<key>``): the diary form and its tabs (``grid_work``) move up under the title,
the header's figures and the counters (``grid_head``, ``grid_counters``) shrink into compact
tiles, and the map with the people (``grid_map``) comes last, lower. Wider screens keep the page
as it is written, unless the address asks for the form first (``?entry=new``, the start page's
"new entry" link), which reorders at every width. On the case page the action form's column
(``case_body``) moves above the header's figures (``case_head``, tiles too) and the history; the
quick update (``?update=quick``) is drawn first by the page itself. The stylesheets hold no data.
"""

from __future__ import annotations

import streamlit as st

NARROW = 430  # px: the widest phone the compact layout is meant for

# order among a page's blocks: unkeyed ones (title, caption, notices) keep 0 and stay on top
_GRID_ORDER = {"grid_work": 1, "grid_head": 2, "grid_counters": 3, "grid_map": 4}
_CASE_ORDER = {"case_body": 1, "case_head": 2, "case_history": 3}


def _reorder(order: dict[str, int]) -> str:
    return "".join(
        f'[data-testid="stVerticalBlock"] > :has(> .st-key-{key}),'
        f'[data-testid="stVerticalBlock"] > .st-key-{key} {{order: {n};}}'
        for key, n in order.items())


def _tiles(*keys: str) -> str:
    """Rows of figures in the keyed blocks wrap three to a line, in smaller type."""
    def rule(selector: str, body: str) -> str:
        return ",".join(f".st-key-{key} {selector}" for key in keys) + f" {{{body}}}"

    return "".join([
        rule('[data-testid="stHorizontalBlock"]', "flex-wrap: wrap; gap: 0.25rem;"),
        rule('[data-testid="stColumn"]',
             "flex: 1 1 30% !important; min-width: 30% !important; width: auto !important;"),
        rule('[data-testid="stMetric"]', "padding: 0;"),
        rule('[data-testid="stMetricLabel"] p', "font-size: 0.7rem;"),
        rule('[data-testid="stMetricValue"]', "font-size: 1.05rem;"),
    ])


_GRID_EXTRA = """
.st-key-grid_counters {gap: 0.25rem;}
.st-key-grid_map [data-testid="stElementContainer"]:has(iframe),
.st-key-grid_map [data-testid="stElementContainer"]:has(iframe) > div,
.st-key-grid_map iframe {height: 260px !important;}
"""
# the case page's two columns stack on a phone: the form's (the last) above the details
_CASE_EXTRA = '.st-key-case_body [data-testid="stColumn"]:last-child {order: -1;}'


def _narrow(css: str) -> str:
    return f"@media (max-width: {NARROW}px) {{{css}}}"


def grid_layout(*, entry_first: bool) -> None:
    """The grid page's stylesheet: the phone layout below ``NARROW`` px, and the form first at
    every width when ``entry_first``."""
    css = _narrow(_reorder(_GRID_ORDER) + _tiles("grid_head", "grid_counters") + _GRID_EXTRA)
    if entry_first:
        css += _reorder(_GRID_ORDER)
    st.html(f"<style>{css}</style>")


def case_layout() -> None:
    """The case page's stylesheet: below ``NARROW`` px the action form first, the header's
    figures as tiles, the history last."""
    css = _narrow(_reorder(_CASE_ORDER) + _tiles("case_head") + _CASE_EXTRA)
    st.html(f"<style>{css}</style>")
