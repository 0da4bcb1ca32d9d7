"""One palette and one classifier for every map: the district map, the grid map, the legends.

Colours are written here only. The Python side builds legends from :data:`PALETTE`,
:data:`METRICS` and :data:`TRACK_COLOURS`; the browser side receives the same values as one JSON
object (:func:`palette_json`, installed as ``window.mqPalette`` by :mod:`geo.mapview`) and its
scripts read colours from it, never from literals of their own.

Values are put into classes by :func:`classify`, built on mapclassify's quantiles (the scheme
geopandas itself uses for ``scheme="quantiles"``), adapted to counts: integer bounds, equal bounds
merged, zero in a class of its own where "none" should recede. The grid choropleth and the
household aggregate on the district map both use it.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass

import mapclassify
import numpy as np

from minqing.vocab import HouseholdTag, Track

__all__ = [
    "CARE_ORDER",
    "METRICS",
    "PALETTE",
    "TRACK_COLOURS",
    "Classes",
    "Metric",
    "care_category",
    "classify",
    "palette_json",
]

NO_DATA = "#cfd4da"

PALETTE: dict[str, str] = {
    "grid_fill": "#dfe3e8",  # a grid before the metric colours it
    "grid_line": "#ffffff",
    "hover_line": "#1f2933",
    "town_line": "#37474f",
    "grid_outline": "#1f2933",  # the grid page's single grid
    "grid_outline_fill": "#90a4ae",
    "household": "#455a64",  # a household with no special tag
    "household_line": "#ffffff",
    "cell": "#263238",  # household count dot of the aggregate
    "cell_care": "#f9a825",  # its share of households needing care
    "group": "#00796b",
    "case_line": "#ffffff",
    "overdue_ring": "#d50000",
    "focus_line": "#ff6f00",  # the grid found by the search box
    "no_data": NO_DATA,
}

TRACK_COLOURS: dict[str, str] = {
    Track.IMMEDIATE.value: "#2e7d32", Track.PROMISED.value: "#1565c0",
    Track.LIAISON.value: "#7b1fa2", Track.SUPERVISED.value: "#ef6c00",
}

CARE_ORDER: tuple[tuple[str, str], ...] = (
    (HouseholdTag.TEKUN.value, "#c62828"),
    (HouseholdTag.WUBAO.value, "#8e24aa"),
    (HouseholdTag.DIBAO.value, "#f9a825"),
    (HouseholdTag.ELDERLY_ALONE.value, "#0097a7"),
    (HouseholdTag.DISABLED.value, "#3949ab"),
    (HouseholdTag.MILITARY.value, "#6d4c41"),
)
"""Special households in the order their colour wins when a household has several tags
(category ``i + 1``; 0 is a household with none)."""

CELL_RADII: tuple[float, ...] = (3.0, 4.5, 6.5, 9.0, 12.0)
"""Dot radius (pixels) of the household aggregate per class, smallest class first."""


def care_category(tags: str | None) -> int:
    """The special-household category of a comma-separated tag list (0: none of them).

    Examples
    --------
    >>> care_category("elderly_alone,wubao")
    2
    >>> care_category("")
    0
    """
    present = set(str(tags or "").split(","))
    for i, (tag, _colour) in enumerate(CARE_ORDER):
        if tag in present:
            return i + 1
    return 0


def palette_json() -> str:
    """Everything the map scripts colour with, as one JSON object."""
    return json.dumps({**PALETTE, "tracks": TRACK_COLOURS,
                       "care": [PALETTE["household"], *[c for _, c in CARE_ORDER]],
                       "cell_radii": list(CELL_RADII)}, separators=(",", ":"))


@dataclass(frozen=True)
class Metric:
    """How one grid metric is coloured.

    ``zero_colour`` gives 0 its own class: for open cases, overdue and risks a grid with none is
    "quiet" and should recede; for diary entries a grid with none is the thing to see.
    ``missing_colour`` is for grids without any value (no diary entry ever: "days since" is
    undefined, and worse than any number of days). ``low_stands_out``: the grids to look at are
    those with the *lowest* values (too few diary entries), not the highest.
    """

    key: str
    palette: tuple[str, ...]
    zero_colour: str | None = "#f1f3f5"
    missing_colour: str = NO_DATA
    low_stands_out: bool = False


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("households", ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")),
        Metric("open_cases", ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")),
        Metric("overdue_cases", ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")),
        Metric("risks_90d", ("#f1eef6", "#d7b5d8", "#df65b0", "#dd1c77", "#980043")),
        Metric("days_since_diary", ("#ffffd4", "#fed98e", "#fe9929", "#d95f0e", "#993404"),
               zero_colour=None, missing_colour="#4a1a04"),
        Metric("diary_30d", ("#edf8e9", "#bae4b3", "#74c476", "#31a354", "#006d2c"),
               zero_colour="#fcbba1", low_stands_out=True),
    )
}


@dataclass(frozen=True)
class Classes:
    """A classification: class ``i`` covers ``(uppers[i-1], uppers[i]]``; -1 is "no value"."""

    index: np.ndarray
    uppers: tuple[float, ...]
    colours: tuple[str, ...]
    labels: tuple[str, ...]
    missing_colour: str
    counts: tuple[int, ...]


def _quantile_uppers(values: np.ndarray, k: int) -> list[float]:
    """Upper bounds of up to ``k`` quantile classes (mapclassify), each moved down to the
    largest value actually in its class, equal bounds merged: on counts a bound such as 2.8
    reads as "up to 2", and two quantiles that fall between the same values make one class."""
    distinct = np.unique(values)
    if distinct.size == 0 or k <= 0:
        return []
    k = min(k, distinct.size)
    with warnings.catch_warnings():  # "not enough unique values": handled by the merge below
        warnings.simplefilter("ignore")
        bins = mapclassify.Quantiles(values, k=k).bins
    below = np.searchsorted(distinct, bins, side="right") - 1
    return sorted({float(distinct[i]) for i in below if i >= 0})


def _range_label(low: float, high: float) -> str:
    low_i, high_i = int(low), int(high)
    return f"{low_i}" if low_i == high_i else f"{low_i}–{high_i}"


def classify(values, metric: Metric, k: int = 5) -> Classes:
    """Put integer-valued measures into at most ``k`` quantile classes with a fixed palette.

    Quantiles suit counts that are skewed (a few grids hold most overdue cases); on integers
    they can fall between the same two values, so such bounds merge and a measure with few
    distinct values gets fewer classes rather than empty ones. Zero is its own class when the metric says so, so that the
    "nothing here" grids never share a colour with the lightest hot spot.

    Parameters
    ----------
    values : array_like
        One value per grid (or per household cell); NaN means "no value" (class -1).
    metric : Metric
        Palette and the meaning of zero and of a missing value.
    k : int
        The most classes to make (the palettes have 5 colours).

    Returns
    -------
    Classes

    Examples
    --------
    >>> c = classify([0, 0, 1, 2, 3, 10], METRICS["open_cases"])
    >>> c.labels[0], int(c.index[-1]) == len(c.uppers) - 1
    ('0', True)
    """
    v = np.asarray(values, dtype=float)
    valid = ~np.isnan(v)
    index = np.full(v.shape, -1, dtype=int)
    uppers: list[float] = []
    lows: list[float] = []
    colours: list[str] = []
    positive = v[valid]
    if metric.zero_colour is not None:
        if (positive <= 0).any():
            uppers.append(0.0)
            lows.append(0.0)
            colours.append(metric.zero_colour)
        positive = positive[positive > 0]
    rest = _quantile_uppers(positive, k - len(uppers))
    palette = metric.palette[len(metric.palette) - len(rest):] if rest else ()
    prev = uppers[-1] if uppers else (float(positive.min()) - 1 if positive.size else 0.0)
    for upper, colour in zip(rest, palette, strict=True):
        lows.append(prev + 1)
        uppers.append(upper)
        colours.append(colour)
        prev = upper
    if uppers:
        index[valid] = np.searchsorted(np.asarray(uppers), v[valid], side="left")
        index[valid] = np.minimum(index[valid], len(uppers) - 1)
    counts = tuple(int((index == i).sum()) for i in range(len(uppers)))
    labels = tuple(_range_label(lo, hi) for lo, hi in zip(lows, uppers, strict=True))
    return Classes(index, tuple(uppers), tuple(colours), labels, metric.missing_colour, counts)
