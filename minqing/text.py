"""Free text as typed by users: what is kept, what is removed, before it is stored or shown.

Bidirectional control characters (U+202A-U+202E, U+2066-U+2069, the marks U+200E/U+200F and the
Arabic letter mark U+061C) make text display in another order than it was typed: a name or a
diary line could read as something else. They are removed on input (every free-text field of the
domain goes through :func:`clean`) and again on display (``ui.safe.md``), for rows stored before.
"""

from __future__ import annotations

import re

_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def strip_bidi(text: str) -> str:
    """``text`` without bidirectional control characters."""
    return _BIDI.sub("", text)


def clean(value: str | None) -> str:
    """A free-text input as stored: bidi controls removed, surrounding whitespace stripped."""
    return strip_bidi(value or "").strip()
