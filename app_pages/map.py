"""District map (一张图): grids coloured by a measure, switchable overlays, click to drill down."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

import ui
from geo import district
from geo.assets import use_local_assets
from geo.basemap import resolve_basemap
from geo.layers import METRICS
from minqing import kpi, mapdata
from minqing.clock import today
from minqing.settings import load_settings
from ui.safe import md

MAP_HEIGHT = 700
MAP_KEY = "district_map"


@st.cache_resource(show_spinner=False)
def _setup():
    """Install the offline Leaflet files and resolve the basemap once per process."""
    use_local_assets()
    return resolve_basemap(load_settings())


@st.cache_data(ttl=900, show_spinner=False, max_entries=16)
def _frames(_engine, version: str, scope, day):
    return (mapdata.grid_frame(_engine, scope=scope), mapdata.town_frame(_engine, scope=scope),
            kpi.grid_counters(_engine, scope=scope, today=day))


@st.cache_data(ttl=900, show_spinner=False, max_entries=16)
def _base(_engine, version: str, scope, day, lang: str, gcj02: bool) -> district.BaseLayers:
    grids, towns, counters = _frames(_engine, version, scope, day)
    return district.base_layers(grids, towns, counters, lang, gcj02=gcj02)


@st.cache_data(ttl=900, show_spinner=False, max_entries=32)
def _overlay(_engine, version: str, scope, day, lang: str, kind: str, gcj02: bool):
    if kind == "households":
        frame = mapdata.household_points(_engine, scope=scope)
    elif kind == "groups":
        frame = mapdata.service_groups(_engine, scope=scope)
    else:
        frame = mapdata.open_case_points(_engine, scope=scope, today=day)
    grids = _frames(_engine, version, scope, day)[0]
    return district.overlay_rows(kind, frame, lang, grids=grids, gcj02=gcj02)


def _controls() -> tuple[str, list[str]]:
    linked = st.query_params.get("metric")
    if linked in METRICS and "map_metric" not in st.session_state:
        st.session_state.map_metric = linked
    metric = st.selectbox(ui.t("map.metric"), list(METRICS), key="map_metric",
                          format_func=lambda k: ui.t(f"map.metric.{k}"))
    overlays = st.pills(ui.t("map.overlays"), district.OVERLAYS, selection_mode="multi",
                        default=[], key="map_overlays",
                        format_func=lambda k: ui.t(f"map.layer.{k}"))
    return metric, list(overlays or [])


def _counters(counters, metric: str, grids) -> None:
    totals = kpi.grid_headline(counters)
    st.markdown(f"**{ui.t('map.in_view')}**")
    cells = [("kpi.grids", totals["grids"]), ("kpi.households", totals["households"]),
             ("kpi.open_cases", totals["open_cases"]),
             ("kpi.overdue_cases", totals["overdue_cases"]),
             ("map.metric.risks_90d", totals["risks_90d"]),
             ("map.silent_grids", totals["silent_grids"])]
    for row in range(0, len(cells), 2):
        for column, (key, value) in zip(st.columns(2), cells[row:row + 2], strict=True):
            column.metric(ui.t(key), f"{value:,}")
    _hot_grids(counters, metric, grids)


def _hot_grids(counters, metric: str, grids) -> None:
    """The five grids that stand out on the chosen measure, each a link to its page."""
    low = METRICS[metric].low_stands_out
    values = counters[metric].fillna(-1.0 if low else float("inf"))
    top = values.sort_values(ascending=low, kind="stable").head(5)
    names = dict(zip(grids["grid_id"], grids["name"], strict=True))
    st.markdown(f"**{ui.t('map.hot_grids')}** · {ui.t(f'map.metric.{metric}')}")
    for grid_id, value in top.items():
        shown = "—" if value in (float("inf"), -1.0) else f"{int(value):,}"
        st.page_link("app_pages/grid.py", label=f"{md(names.get(grid_id, grid_id))} · {shown}",
                     query_params={"grid": str(grid_id)})


def _clicked_grid(state: dict | None) -> int | None:
    feature = (state or {}).get("last_active_drawing") or {}
    grid_id = (feature.get("properties") or {}).get("g")
    return int(grid_id) if grid_id is not None else None


@st.fragment
def _map_panel(day) -> None:
    basemap = _setup()
    engine, version, scope, lang = ui.engine(), ui.version(), ui.current_scope(), ui.lang()
    grids, _towns, counters = _frames(engine, version, scope, day)
    side, main = st.columns([1.25, 3.2], gap="medium")
    with side:
        metric, overlays = _controls()
    st.query_params["metric"] = metric
    base = _base(engine, version, scope, day, lang, basemap.gcj02)
    _, style = district.metric_overlay(base.geometry.grid_ids, counters, metric, lang,
                                       overlays=tuple(overlays))
    layers = [style] + [district.point_layer(*_overlay(engine, version, scope, day, lang, kind,
                                                       basemap.gcj02)) for kind in overlays]
    with main:  # the map goes out before the side panel's counters: it is what people wait for
        state = st_folium(district.build_map(base, basemap), key=MAP_KEY, height=MAP_HEIGHT,
                          use_container_width=True, returned_objects=["last_active_drawing"],
                          feature_group_to_add=layers)
    grid_id = _clicked_grid(state)
    if grid_id is not None:
        st.switch_page("app_pages/grid.py", query_params={"grid": str(grid_id)})
    with side:
        if "households" in overlays and int(counters["households"].sum()) > district.POINT_LIMIT:
            st.caption(ui.t("map.households_binned"))
        _counters(counters, metric, grids)


def page() -> None:
    st.title(ui.t("map.title"))
    ui.demo_badge()
    day = today()
    st.caption(ui.t("map.caption", today=day.isoformat()))
    basemap = _setup()
    if basemap.problem:
        st.info(ui.t("map.basemap_problem", why=md(basemap.problem)))
    _map_panel(day)


page()
