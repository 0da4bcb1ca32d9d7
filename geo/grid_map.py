"""A folium map of one grid: its outline, its households, its service point and its open cases.

A grid holds at most a few hundred households, so every household is drawn as a point (no
aggregation needed, unlike the district map). The map shell, the point layers, their escaping and
their colours are the district map's own (:func:`geo.mapview.new_map`, :mod:`geo.layers`,
:mod:`geo.style`), so a case looks the same on both maps. Every asset is served by the app
(:func:`geo.assets.use_local_assets`): nothing is loaded from a CDN.
"""

from __future__ import annotations

import datetime as dt

import folium
import geopandas as gpd
import pandas as pd
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo.assets import use_local_assets
from geo.basemap import Basemap
from geo.crs import shift_to_gcj02
from geo.layers import case_rows, household_rows, html_text
from geo.mapview import new_map, point_layer, shift_rows
from geo.style import PALETTE
from minqing.clock import today as clock_today
from minqing.deadlines import days_overdue
from minqing.i18n import t

__all__ = ["grid_map"]

_OUTLINE = {"color": PALETTE["grid_outline"], "weight": 2.5,
            "fillColor": PALETTE["grid_outline_fill"], "fillOpacity": 0.12}


def _outline(geom: BaseGeometry, name: str, gcj02: bool) -> folium.GeoJson:
    """The grid polygon, shifted to GCJ-02 for a Gaode basemap (display only)."""
    if gcj02:
        geom = shift_to_gcj02(geom)
    return folium.GeoJson(
        mapping(geom), name="grid", control=False,
        style_function=lambda _feature: _OUTLINE,
        tooltip=folium.Tooltip(html_text(name)),
    )


def _service_point(lat: float, lon: float, label: str, gcj02: bool) -> folium.CircleMarker:
    (row,) = shift_rows([[lat, lon]], gcj02)
    return folium.CircleMarker(
        location=row[:2], radius=8, weight=2, color=PALETTE["case_line"], fill=True,
        fill_color=PALETTE["group"],
        fill_opacity=0.95, tooltip=html_text(label),
    )


def _case_frame(backlog: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """The backlog in the shape :func:`geo.layers.case_rows` reads (which marks the green
    channel in the popup, as on the district map); days overdue as :mod:`minqing.deadlines`
    counts them."""
    frame = backlog.rename(columns={"id": "case_id"}).copy()
    frame["days_overdue"] = [days_overdue(status, deadline, today) for status, deadline
                             in zip(frame["status"], frame["deadline"], strict=True)]
    return frame


def grid_map(
    geom: BaseGeometry,
    *,
    name: str,
    households: pd.DataFrame,
    backlog: pd.DataFrame,
    service_point: tuple[float, float] | None,
    basemap: Basemap,
    lang: str,
    today: dt.date | None = None,
    link_base: str = "/",
) -> folium.Map:
    """Build the grid's map.

    Parameters
    ----------
    geom : the grid polygon in EPSG:4326.
    name : the grid's name (escaped here).
    households : ``household_id, code, head_name, size, tags, lat, lon`` per household.
    backlog : open cases as :func:`minqing.casebook.open_cases` returns them (with ``lat``/``lon``
        of their household, NaN when none).
    service_point : ``(lat, lon)`` of the service group, if any.
    basemap : from :func:`geo.basemap.resolve_basemap`.
    lang : catalogue language for labels.
    today : the day overdue is judged on (default :func:`minqing.clock.today`).
    link_base : where the case popups' links start (:func:`minqing.links.mount_base`).

    Returns
    -------
    folium.Map
        Fitted to the grid; loads only the app's own static assets.
    """
    use_local_assets()
    minx, miny, maxx, maxy = geom.bounds
    m = new_map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom=15, basemap=basemap)
    _outline(geom, name, basemap.gcj02).add_to(m)
    if not households.empty:
        rows = shift_rows(household_rows(households, lang), basemap.gcj02)
        m.add_child(point_layer("household", rows))
    if service_point is not None:
        _service_point(*service_point, t("map.service_group", lang), basemap.gcj02).add_to(m)
    if not backlog.empty:
        grids = gpd.GeoDataFrame({"grid_id": [int(backlog["grid_id"].iloc[0])]},
                                 geometry=[geom], crs="EPSG:4326")
        rows = shift_rows(case_rows(_case_frame(backlog, today or clock_today()), grids, lang,
                                        link_base=link_base), basemap.gcj02)
        m.add_child(point_layer("case", rows))
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding=(12, 12))
    return m
