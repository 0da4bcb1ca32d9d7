"""The one rule for showing a stored or URL-borne string: as the characters typed.

Streamlit's markdown-backed widgets (markdown, caption, metric, info/warning/error/success, toast,
widget labels, page links) interpret far more than CommonMark. A value that came from the store or
from the address bar therefore goes through :func:`md` before it is put into such a widget; tables
(``st.dataframe``) and ``st.text`` show it as typed already. Map popups use ``html.escape``.

What Streamlit's markdown does to text, and how :func:`md` stops each (checked against the
frontend's plugins, and by ``tests/browser/test_payloads.py`` in a real browser):

* the parser's syntax — links, images, emphasis, code, headings, lists, block quotes, tables, HTML,
  entities, ``:colour[...]`` directives, ``$`` maths — is stopped by a backslash before every
  ASCII punctuation character (CommonMark makes any such escape a literal), and by dropping the
  indentation that would make a code block;
* plugins that rewrite the *parsed* text, where a backslash no longer exists: emoji shortcodes
  (``:smile:``), ``:streamlit:`` (an image), ``:material/icon:``, GFM's bare-URL and e-mail
  autolinks, and the typographic replacements (``--`` to a dash, ``->`` to an arrow, ``>=``, ...).
  Those are broken by a WORD JOINER (U+2060, invisible, no line break) inside the pattern: after a
  colon, between the characters of ``--``/``->``/``<=``..., after ``@`` and inside ``www.``;
* bidirectional controls, which make text read in another order than it was typed, are removed
  (:func:`minqing.text.strip_bidi`; the domain strips them on input too).
"""

from __future__ import annotations

import re

from minqing.text import strip_bidi

__all__ = ["md", "strip_bidi"]

_PUNCT = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
WJ = "\u2060"  # WORD JOINER: zero width, no break opportunity, ignored by every pattern below
# Where a word joiner goes (in the escaped text, so after a backslash-escaped character):
_JOIN = re.compile(
    r"(?<=\\:)"                     # :smile: :streamlit: :material/x: http://
    r"|(?<=\\[-<>~=])(?=\\[-<>=])"  # -- -> <- <-> >= <= ~= (typographic replacements)
    r"|(?<=\\@)"                    # user@example.invalid (e-mail autolink)
    r"|(?<=[wW])(?=\\\.)",          # www.example.invalid (bare-URL autolink)
)
_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)


def md(value: object) -> str:
    """``value`` as markdown source that renders to exactly its characters (no markup at all).

    Line breaks are kept as line breaks; leading spaces on a line are dropped (HTML would collapse
    them anyway, and four of them would start a code block).
    """
    text = strip_bidi("" if value is None else str(value)).replace("\r\n", "\n").replace("\r", "\n")
    text = _INDENT.sub("", text)
    text = _JOIN.sub(WJ, _PUNCT.sub(r"\\\1", text))
    return text.replace("\n", "  \n")
