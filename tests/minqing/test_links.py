"""Deep links: the one address builder and the one id parser (values worked out by hand)."""

from __future__ import annotations

import pytest

from minqing.links import (
    case_url,
    grid_url,
    household_url,
    mount_base,
    page_url,
    parse_id,
    town_map_url,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("120", 120), ("1", 1), ("007", 7), ("9223372036854775807", 9223372036854775807),
])
def test_plain_ascii_digits_in_range_are_ids(raw, expected):
    assert parse_id(raw) == expected


@pytest.mark.parametrize("raw", [
    None, "", "0", "-1", "+120", " 120", "120 ", "1_2_0", "１２０", "١٢٠", "12.0", "1e3", "0x78",
    "9223372036854775808", "99999999999999999999", "1" * 400, "120abc", "abc",
])
def test_anything_else_is_no_id(raw):
    assert parse_id(raw) is None


def test_non_strings_are_no_id():
    assert parse_id(120) is None
    assert parse_id(["120"]) is None


def test_page_addresses():
    assert case_url(42) == "./case?case=42"
    assert grid_url(7, lang="en") == "./grid?grid=7&lang=en"
    assert town_map_url(3, lang="zh") == "./map?town=3&lang=zh"
    assert page_url("overview") == "./overview"
    assert page_url("map", town=None, metric="open_cases") == "./map?metric=open_cases"
    assert case_url(5, base="/") == "/case?case=5"


def test_the_mount_base_of_popup_links():
    assert mount_base("") == mount_base(None) == "/"
    assert mount_base("minqing") == "/minqing/"
    assert mount_base("/apps/minqing/") == "/apps/minqing/"
    assert case_url(5, base=mount_base("minqing")) == "/minqing/case?case=5"


def test_fragments_are_percent_encoded():
    """LinkColumn shows the fragment (decoded) as the link text; a name must not break the URL."""
    assert household_url(9, fragment="张三") == "./household?household=9#%E5%BC%A0%E4%B8%89"
    assert case_url(1, fragment="a#b c") == "./case?case=1#a%23b%20c"


def test_unknown_pages_are_refused():
    with pytest.raises(ValueError, match="unknown page"):
        page_url("admin")
