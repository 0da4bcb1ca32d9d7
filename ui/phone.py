"""The grid page on a phone (360-430 px wide): what a cadre does there comes first.

Streamlit tells the server nothing about the screen, so the layout is decided in the browser by a
CSS media query over the page's keyed containers (``st.container(key=...)`` renders a block with
the class ``st-key-<key>``): the diary form and its tabs (``grid_work``) move up under the title,
the header's figures and the counters (``grid_head``, ``grid_counters``) shrink into compact
tiles, and the map with the people (``grid_map``) comes last, lower. Wider screens keep the page
as it is written, unless the address asks for the form first (``?entry=new``, the start page's
"new entry" link), which reorders at every width. The stylesheet holds no data.
"""

from __future__ import annotations

import streamlit as st

NARROW = 430  # px: the widest phone the compact layout is meant for

# order among the page's blocks: unkeyed ones (title, caption, notices) keep 0 and stay on top
_ORDER = {"grid_work": 1, "grid_head": 2, "grid_counters": 3, "grid_map": 4}


def _reorder() -> str:
    return "".join(
        f'[data-testid="stVerticalBlock"] > :has(> .st-key-{key}),'
        f'[data-testid="stVerticalBlock"] > .st-key-{key} {{order: {n};}}'
        for key, n in _ORDER.items())


_COMPACT = """
.st-key-grid_head [data-testid="stHorizontalBlock"],
.st-key-grid_counters [data-testid="stHorizontalBlock"] {flex-wrap: wrap; gap: 0.25rem;}
.st-key-grid_head [data-testid="stColumn"],
.st-key-grid_counters [data-testid="stColumn"] {
  flex: 1 1 30% !important; min-width: 30% !important; width: auto !important;}
.st-key-grid_head [data-testid="stMetric"],
.st-key-grid_counters [data-testid="stMetric"] {padding: 0;}
.st-key-grid_head [data-testid="stMetricLabel"] p,
.st-key-grid_counters [data-testid="stMetricLabel"] p {font-size: 0.7rem;}
.st-key-grid_head [data-testid="stMetricValue"],
.st-key-grid_counters [data-testid="stMetricValue"] {font-size: 1.05rem;}
.st-key-grid_counters {gap: 0.25rem;}
.st-key-grid_map [data-testid="stElementContainer"]:has(iframe),
.st-key-grid_map [data-testid="stElementContainer"]:has(iframe) > div,
.st-key-grid_map iframe {height: 260px !important;}
"""


def grid_layout(*, entry_first: bool) -> None:
    """The grid page's stylesheet: the phone layout below ``NARROW`` px, and the form first at
    every width when ``entry_first``."""
    css = f"@media (max-width: {NARROW}px) {{{_reorder()}{_COMPACT}}}"
    if entry_first:
        css += _reorder()
    st.html(f"<style>{css}</style>")
