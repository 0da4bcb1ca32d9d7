"""The map state in the address bar: parse and format as a round trip; bad values dropped."""

from __future__ import annotations

import pytest

from ui.mapstate import MapState, format_view, parse, parse_view, to_params


@pytest.mark.parametrize("state", [
    MapState(),
    MapState("overdue_cases", ("households", "cases"), (30.75431, 120.81234, 16.0)),
    MapState("diary_30d", ("groups",), (30.1, 120.2, 12.75)),
])
def test_round_trip(state):
    params = {k: v for k, v in to_params(state).items() if v is not None}
    assert parse(params) == state


def test_defaults_are_left_out_of_the_address():
    assert to_params(MapState()) == {"metric": None, "layers": None, "view": None}
    assert to_params(MapState("risks_90d", ("cases", "households"), (30.0, 120.0, 15))) == {
        "metric": "risks_90d", "layers": "households,cases", "view": "30.00000,120.00000,15"}


def test_unknown_or_malformed_values_are_dropped():
    state = parse({"metric": "<script>", "layers": "households,evil,,cases",
                   "view": "30.5,120.5,99"})
    assert state == MapState("households", ("households", "cases"), None)


@pytest.mark.parametrize("raw", ["", "30,120", "30,120,15,1", "a,b,c", "inf,120,15",
                                 "30,200,15", "30,120,0", "1" * 80, None, 3])
def test_bad_views_are_refused(raw):
    assert parse_view(raw) is None


def test_view_is_kept_to_a_metre():
    assert format_view(30.123456789, 120.987654321, 16) == "30.12346,120.98765,16"
    assert parse_view("30.12346,120.98765,16.5") == (30.12346, 120.98765, 16.5)
