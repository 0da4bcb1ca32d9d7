"""Punctuation between catalogue strings and values: full-width in Chinese, ASCII in English.

Pages join labels and values with these instead of typing ``：`` or ``、`` into the code, so the
English UI shows no Chinese punctuation.
"""

from __future__ import annotations

# key: (Chinese, English)
STRINGS: dict[str, tuple[str, str]] = {
    "punct.colon": ("：", ": "),
    "punct.list": ("、", ", "),
    "punct.clauses": ("；", "; "),
    "punct.aside": ("（{text}）", " ({text})"),
}
