"""The one palette and the one classifier (mapclassify quantiles adapted to counts)."""

from __future__ import annotations

import json

import numpy as np

from geo.style import (
    CARE_ORDER,
    METRICS,
    PALETTE,
    TRACK_COLOURS,
    care_category,
    classify,
    palette_json,
)


def test_zero_gets_its_own_class_and_the_largest_value_the_darkest_colour():
    c = classify([0, 0, 1, 2, 3, 10], METRICS["open_cases"])
    assert c.labels[0] == "0"
    assert c.colours[0] == METRICS["open_cases"].zero_colour
    assert list(c.index[:2]) == [0, 0]
    assert c.index[-1] == len(c.uppers) - 1
    assert c.colours[-1] == METRICS["open_cases"].palette[-1]
    assert sum(c.counts) == 6


def test_quantile_bounds_by_hand():
    # 1..10 in five quantile classes: the 20/40/60/80/100 % points are 2.8, 4.6, 6.4, 8.2, 10
    # (linear interpolation); the largest values at or under them are 2, 4, 6, 8, 10
    c = classify(list(range(1, 11)), METRICS["households"])
    assert c.uppers == (2.0, 4.0, 6.0, 8.0, 10.0)
    assert c.labels == ("1–2", "3–4", "5–6", "7–8", "9–10")
    assert c.counts == (2, 2, 2, 2, 2)


def test_two_values_make_two_classes():
    c = classify([1, 2], METRICS["households"])
    assert c.labels == ("1", "2")
    assert list(c.index) == [0, 1]


def test_classes_are_monotone_and_labels_cover_every_value():
    values = np.arange(0, 101)
    c = classify(values, METRICS["households"])
    assert len(c.uppers) <= 5
    assert (np.diff(c.index) >= 0).all()
    assert c.uppers[-1] == 100
    assert c.labels[-1].endswith("100")


def test_few_distinct_values_give_fewer_classes_not_empty_ones():
    c = classify([0, 1, 1, 1, 1], METRICS["overdue_cases"])
    assert c.labels == ("0", "1")
    assert all(n > 0 for n in c.counts)


def test_missing_days_since_is_its_own_dark_class():
    metric = METRICS["days_since_diary"]
    c = classify([np.nan, 1, 5, 30, 90], metric)
    assert c.index[0] == -1
    assert c.missing_colour == metric.missing_colour
    assert metric.zero_colour is None  # 0 days is simply the best class


def test_zero_diary_entries_stand_out():
    metric = METRICS["diary_30d"]
    assert metric.low_stands_out
    c = classify([0, 3, 8], metric)
    assert c.colours[0] == metric.zero_colour != metric.palette[0]


def test_empty_input_classifies_to_nothing():
    c = classify([], METRICS["households"])
    assert c.uppers == ()
    assert c.index.size == 0


def test_care_category_follows_the_declared_order():
    assert care_category(None) == 0
    assert care_category("") == 0
    assert care_category("dibao") == 3
    assert care_category("military,tekun") == 1  # 特困 first
    assert care_category("unknown_tag") == 0


def test_the_browser_gets_the_same_palette():
    sent = json.loads(palette_json())
    assert {k: sent[k] for k in PALETTE} == PALETTE
    assert sent["tracks"] == TRACK_COLOURS
    assert sent["care"] == [PALETTE["household"], *[colour for _, colour in CARE_ORDER]]
