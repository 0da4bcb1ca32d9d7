"""folium compiles each element's rendered output as a Jinja template again; data must never be
evaluated there. A name or a case title carrying ``{{ ... }}`` reaches the map as typed text."""

from __future__ import annotations

import datetime as dt

import folium
import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from geo.basemap import Basemap
from geo.grid_map import grid_map
from geo.layers import case_rows, group_rows, html_text
from geo.mapview import point_layer

PAYLOAD = "{{ 'INJ' ~ 'ECTED' }}{% if true %}RAN{% endif %}{# c #}"
GEOM = box(120.70, 30.70, 120.71, 30.71)


def _rendered(m: folium.Map) -> str:
    return m.get_root().render()


def _assert_inert(html: str) -> None:
    assert "INJECTED" not in html
    assert html.count("RAN") == html.count("%&#125;RAN&#123;%")  # only inside the typed text
    assert "&#123;&#123; &#x27;INJ&#x27; ~ &#x27;ECTED&#x27; &#125;&#125;" in html


def test_braces_become_entities():
    assert html_text("{{x}} <b>") == "&#123;&#123;x&#125;&#125; &lt;b&gt;"
    assert html_text(None) == ""


def test_case_popups_and_group_popups_are_not_evaluated():
    grids = gpd.GeoDataFrame({"grid_id": [1]}, geometry=[GEOM], crs="EPSG:4326")
    cases = pd.DataFrame({
        "case_id": [7], "grid_id": [1], "lat": [30.705], "lon": [120.705], "title": [PAYLOAD],
        "code": ["MQ1"], "track": ["immediate"], "status": ["handling"],
        "deadline": [dt.date(2026, 12, 1)], "overdue": [False], "days_overdue": [0],
        "green_channel": [False]})
    groups = pd.DataFrame({"grid_name": [PAYLOAD], "leader": [PAYLOAD], "lat": [30.705],
                           "lon": [120.705], "members": [[("leader", PAYLOAD)]]})
    m = folium.Map(location=[30.705, 120.705], tiles=None)
    m.add_child(point_layer("case", case_rows(cases, grids, "zh")))
    m.add_child(point_layer("group", group_rows(groups, "zh")))
    _assert_inert(_rendered(m))


def test_the_grid_map_tooltip_is_not_evaluated():
    empty = pd.DataFrame()
    m = grid_map(GEOM, name=PAYLOAD, households=empty, backlog=empty, service_point=None,
                 basemap=Basemap("none"), lang="zh")
    _assert_inert(_rendered(m))
