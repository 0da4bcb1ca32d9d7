"""The string catalogue: both languages for every key, every vocabulary code labelled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from minqing import i18n, vocab

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
     ("grid_kind", vocab.GridKind), ("town_kind", vocab.TownKind), ("level", vocab.CadreLevel)],
)
def test_every_vocabulary_code_is_labelled(prefix, enum):
    missing = [code.value for code in enum if f"{prefix}.{code.value}" not in i18n.CATALOGUE]
    assert missing == []


def test_chinese_is_the_default_and_english_switches():
    assert i18n.t("nav.overview") == "全区概览"
    assert i18n.t("nav.overview", "en") == "District at a glance"
    assert i18n.t("overview.caption", "en", today="2026-11-20").endswith("2026-11-20.")


def test_ui_keys_used_in_code_exist():
    """Every literal t("...") key in the app, pages and helpers is in the catalogue."""
    sources = [ROOT / "app.py", *ROOT.glob("ui/*.py"), *ROOT.glob("app_pages/*.py")]
    used: set[str] = set()
    for path in sources:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", path.read_text()))
    assert used, "no keys found: the pattern is broken"
    assert sorted(used - set(i18n.CATALOGUE)) == []
