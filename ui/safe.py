"""The one rule for showing a stored or URL-borne string: as the characters typed.

Streamlit's markdown-backed widgets (markdown, caption, metric, info/warning/error/success, toast,
widget labels) interpret links, images, ``:colour[...]`` directives, ``:material/...:`` icons and
typographic dashes. A value that came from the store or from the address bar therefore goes
through :func:`md` before it is put into such a widget; tables (``st.dataframe``) and ``st.text``
show it as typed already.
"""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>:$&=^\"'])")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def strip_bidi(text: str) -> str:
    """Bidirectional override characters removed: they can make stored text read backwards."""
    return _BIDI.sub("", text)


def md(value: object) -> str:
    """``value`` as markdown source that renders to exactly its characters (no markup at all)."""
    text = strip_bidi("" if value is None else str(value))
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", "  \n")
