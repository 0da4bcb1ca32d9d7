"""The string catalogue: both languages for every key, every vocabulary code labelled."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from minqing import i18n, vocab
from minqing.deadlines import DeadlineState

ROOT = Path(__file__).resolve().parents[2]


def test_every_key_has_chinese_and_english():
    for key, (zh, en) in i18n.CATALOGUE.items():
        assert zh.strip(), f"{key} has no Chinese text"
        assert en.strip(), f"{key} has no English text"
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


@pytest.mark.parametrize(
    ("prefix", "enum"),
    [("track", vocab.Track), ("status", vocab.CaseStatus), ("kind", vocab.RecordKind),
     ("source", vocab.Source), ("role", vocab.MemberRole), ("tag", vocab.HouseholdTag),
     ("grid_kind", vocab.GridKind), ("town_kind", vocab.TownKind), ("level", vocab.CadreLevel),
     ("deadline_state", DeadlineState)],
)
def test_every_vocabulary_code_is_labelled(prefix, enum):
    missing = [code.value for code in enum if f"{prefix}.{code.value}" not in i18n.CATALOGUE]
    assert missing == []


def test_chinese_is_the_default_and_english_switches():
    assert i18n.t("nav.overview") == "全区概览"
    assert i18n.t("nav.overview", "en") == "District at a glance"
    assert i18n.t("overview.caption", "en", today="2026-11-20").endswith("2026-11-20.")


# everything that draws text a user reads: the app, its pages, the page helpers, the map builders
# and the printable letter
SHOWN = [ROOT / "app.py", *ROOT.glob("ui/*.py"), *ROOT.glob("app_pages/*.py"),
         *ROOT.glob("geo/*.py"), ROOT / "minqing" / "letter.py"]


def test_ui_keys_used_in_code_exist():
    """Every literal t("...") key in the app, pages, helpers, map and letter is in the catalogue."""
    sources = SHOWN
    used: set[str] = set()
    for path in sources:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", path.read_text()))
    assert used, "no keys found: the pattern is broken"
    assert sorted(used - set(i18n.CATALOGUE)) == []


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """String literals in the code (docstrings and comments left out)."""
    found, previous = [], tokenize.NEWLINE
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        docstring = tok.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.INDENT,
                                                                 tokenize.DEDENT, tokenize.NL)
        if tok.type == tokenize.STRING and not docstring:  # Python 3.11: f-strings are STRING
            found.append((tok.start[0], tok.string))
        if tok.type not in (tokenize.COMMENT,):
            previous = tok.type
    return found


CHINESE_PUNCTUATION = re.compile("[：；、，（）【】〔〕。！？“”《》]")


@pytest.mark.parametrize("path", [p for p in SHOWN if p.parent.name != "geo"],
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_chinese_punctuation_outside_the_catalogue(path):
    """The English UI shows none: joins and colons come from the punct.* keys. (geo/ is the map
    work's; its popups are converted there.)"""
    hits = [(line, text) for line, text in _code_strings(path) if CHINESE_PUNCTUATION.search(text)]
    assert hits == []


def _used(key: str, code: str) -> bool:
    """A key is used when it appears literally, as an f-string with some parts filled in
    (``f"kpi.{key}.help"``, ``f"{kind}.pick_hint"``, ``f"sizing.key.{key}"`` for
    ``sizing.key.grid.rural``), or as a prefix joined to a variable (``"plan.stage." + stage``)."""
    if f'"{key}"' in code or f"'{key}'" in code:
        return True
    parts = key.split(".")
    for cut in range(1, len(parts)):
        prefix = re.escape(".".join(parts[:cut]) + ".")
        if re.search(rf"""f?["']{prefix}(\{{|["']\s*\+)""", code):
            return True
    for mask in range(1, 2 ** len(parts)):
        pattern = r"\.".join(r"\{[^}]*\}" if mask >> i & 1 else re.escape(part)
                             for i, part in enumerate(parts))
        if re.search(pattern, code):
            return True
    return False


def test_every_catalogue_key_is_used():
    code = "\n".join(p.read_text() for p in ROOT.glob("**/*.py")
                     if not {".venv", "strings", "tests"} & set(p.relative_to(ROOT).parts))
    vocabularies = {"track", "status", "kind", "source", "role", "tag", "grid_kind", "town_kind",
                    "level", "deadline_state"}
    unused = [key for key in i18n.CATALOGUE
              if key.split(".")[0] not in vocabularies and not _used(key, code)]
    assert unused == []
