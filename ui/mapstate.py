"""The district map's state in the address bar, so that "copy the address" reproduces the view.

``/map?town=8&metric=overdue_cases&layers=households,cases&view=30.75431,120.81234,16``

- ``town``: the town picker's (app.py keeps it);
- ``metric``: the grid colouring; ``layers``: the overlays switched on, comma-separated;
- ``view``: ``lat,lon,zoom`` of the map centre, written after every pan or zoom.

:func:`parse` and :func:`to_params` are plain functions (tested as a round trip); :func:`arrival`
and :func:`remember_view` are the Streamlit glue the page calls. Values from the address bar are
untrusted: anything unknown or out of range is dropped, never shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from geo.district import OVERLAYS
from geo.style import METRICS

__all__ = ["DEFAULT_METRIC", "MapState", "arrival", "format_view", "parse", "parse_view",
           "remember_view", "to_params"]

DEFAULT_METRIC = "households"
_START = "_map_start"  # (scope key, view) the mounted map was opened at
_WRITTEN = "_map_views_written"  # the ``view`` values this session put in the address bar
_HISTORY = 500


@dataclass(frozen=True)
class MapState:
    """What a map link carries besides the town."""

    metric: str = DEFAULT_METRIC
    overlays: tuple[str, ...] = ()
    view: tuple[float, float, float] | None = None


def parse_view(raw: object) -> tuple[float, float, float] | None:
    """``"lat,lon,zoom"`` as numbers, or None when malformed or out of range.

    Examples
    --------
    >>> parse_view("30.75431,120.81234,16")
    (30.75431, 120.81234, 16.0)
    >>> parse_view("91,120,16"), parse_view("nan,1,2"), parse_view("1,2")
    (None, None, None)
    """
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    parts = raw.split(",")
    if len(parts) != 3:
        return None
    try:
        lat, lon, zoom = (float(p) for p in parts)
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in (lat, lon, zoom)):
        return None
    if not (-85 <= lat <= 85 and -180 <= lon <= 180 and 1 <= zoom <= 20):
        return None
    return (lat, lon, zoom)


def format_view(lat: float, lon: float, zoom: float) -> str:
    """The ``view`` value: centre to 1e-5° (~1 m), zoom as Leaflet reports it."""
    return f"{lat:.5f},{lon:.5f},{zoom:g}"


def parse(params: Mapping[str, object]) -> MapState:
    """The map state a link asks for; unknown metrics, layers and views are ignored."""
    metric = params.get("metric")
    layers = params.get("layers")
    wanted = set(layers.split(",")) if isinstance(layers, str) else set()
    return MapState(
        metric=metric if isinstance(metric, str) and metric in METRICS else DEFAULT_METRIC,
        overlays=tuple(kind for kind in OVERLAYS if kind in wanted),
        view=parse_view(params.get("view")),
    )


def to_params(state: MapState) -> dict[str, str | None]:
    """Query parameters for ``state``; None means "leave the parameter out"."""
    return {
        "metric": None if state.metric == DEFAULT_METRIC else state.metric,
        "layers": ",".join(k for k in OVERLAYS if k in state.overlays) or None,
        "view": None if state.view is None else format_view(*state.view),
    }


def write(params: Mapping[str, str | None]) -> None:
    """Put ``params`` in the address bar (None removes a parameter); unchanged ones untouched."""
    for key, value in params.items():
        if value is None:
            st.query_params.pop(key, None)
        elif st.query_params.get(key) != value:
            st.query_params[key] = value


def arrival(scope_key: str, map_key: str) -> tuple[float, float, float] | None:
    """The view the map should open at, fixed for as long as the mounted map lives.

    A ``view`` in the address that this session did not write is a link being opened (or a
    page reached from the menu without one): the address decides. Any value this session wrote
    counts as its own, not only the last one: a rerun can carry the address as it was before
    the browser applied the latest write, and taking that for a new link would rebuild the map.
    A change of town in the sidebar keeps the old ``view`` in the address: the new town opens
    whole instead. Whenever the opening view changes, what the old map last reported (under
    ``map_key``) is dropped.
    """
    raw = st.query_params.get("view")
    start = st.session_state.get(_START)
    written = st.session_state.setdefault(_WRITTEN, [])
    if start is None or raw not in written:
        new = (scope_key, parse_view(raw))
        if raw is not None:
            written.append(raw)
    elif start[0] != scope_key:
        new = (scope_key, None)
        st.query_params.pop("view", None)
    else:
        new = start
    if new != start:
        st.session_state.pop(map_key, None)
    st.session_state[_START] = new
    del written[:-_HISTORY]
    return new[1]


def remember_view(centre: tuple[float, float] | None, zoom: float | None) -> None:
    """Write where the map is now into the address bar (after it reported a pan or zoom)."""
    if centre is None or zoom is None:
        return
    value = format_view(centre[0], centre[1], zoom)
    if parse_view(value) is None:
        return
    write({"view": value})
    written = st.session_state.setdefault(_WRITTEN, [])
    if value not in written:
        written.append(value)
