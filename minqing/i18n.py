"""The one string catalogue of the UI: Chinese by default, English by switch.

The catalogue is one dictionary, assembled from the modules of :mod:`minqing.strings` (one per
feature, each a ``STRINGS`` dict) so that features add their strings without editing a shared
block; a key defined twice is an error at import time. Vocabulary codes (``vocab``) are looked up
as ``"<vocab>.<code>"``, e.g. ``t("track.liaison")``. A missing key shows the key itself, so a gap
is visible rather than a crash; ``tests/minqing/test_i18n.py`` checks that both languages cover
every key.
"""

from __future__ import annotations

import importlib
import pkgutil

from minqing import strings

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"


def _assemble() -> dict[str, tuple[str, str]]:
    merged: dict[str, tuple[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(strings.__path__), key=lambda m: m.name):
        part = importlib.import_module(f"{strings.__name__}.{info.name}").STRINGS
        clash = sorted(set(part) & set(merged))
        if clash:
            raise ValueError(f"catalogue keys defined twice ({info.name}): {clash[:5]}")
        merged.update(part)
    return merged


# key: (Chinese, English)
CATALOGUE: dict[str, tuple[str, str]] = _assemble()


def t(key: str, lang: str = DEFAULT_LANG, **fmt: object) -> str:
    """The UI string for ``key`` in ``lang``, formatted with ``fmt``."""
    pair = CATALOGUE.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**fmt) if fmt else text
