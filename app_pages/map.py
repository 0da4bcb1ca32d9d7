"""District map (一张图): grids coloured by a measure, overlays, households by viewport; the whole
view in the address bar; click a grid to drill down."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

import ui
from geo import district
from geo.assets import use_local_assets
from geo.basemap import resolve_basemap
from geo.style import METRICS
from geo.viewport import Viewport
from minqing import kpi
from minqing.clock import today
from minqing.settings import load_settings
from ui import mapstate
from ui.mapsource import CachedSource
from ui.safe import md
from ui.supervision import unreviewed_link

MAP_HEIGHT = 700
MAP_KEY = "district_map"
RETURNED = ["last_active_drawing", "bounds", "zoom", "center"]


@st.cache_resource(show_spinner=False)
def _setup():
    """Install the offline Leaflet files and resolve the basemap once per process."""
    use_local_assets()
    return resolve_basemap(load_settings())


def _choice() -> district.MapChoice:
    """Metric and overlays: from the link on arrival, then from the widgets; kept in the URL."""
    linked = mapstate.parse(st.query_params)
    st.session_state.setdefault("map_metric", linked.metric)
    st.session_state.setdefault("map_overlays", list(linked.overlays))
    metric = st.selectbox(ui.t("map.metric"), list(METRICS), key="map_metric",
                          format_func=lambda k: ui.t(f"map.metric.{k}"))
    overlays = st.pills(ui.t("map.overlays"), district.OVERLAYS, selection_mode="multi",
                        key="map_overlays", format_func=lambda k: ui.t(f"map.layer.{k}"))
    state = mapstate.MapState(metric, tuple(k for k in district.OVERLAYS if k in (overlays or [])))
    mapstate.write({k: v for k, v in mapstate.to_params(state).items() if k != "view"})
    return district.MapChoice(state.metric, state.overlays)


def _counters(counters, metric: str, grids, in_view) -> None:
    """Headline counters and hot grids of the scope, or of the grids in view once zoomed in."""
    if in_view is None:
        st.markdown(f"**{ui.t('map.counters.scope')}**")
    else:
        counters = counters.loc[list(in_view)]
        st.markdown(f"**{ui.t('map.counters.in_view', n=len(in_view))}**",
                    help=ui.t("map.counters.in_view_help"))
    totals = kpi.grid_headline(counters)
    cells = [("kpi.grids", totals["grids"]), ("kpi.households", totals["households"]),
             ("kpi.open_cases", totals["open_cases"]),
             ("kpi.overdue_cases", totals["overdue_cases"]),
             ("map.metric.risks_90d", totals["risks_90d"]),
             ("map.silent_grids", totals["silent_grids"])]
    for row in range(0, len(cells), 2):
        for column, (key, value) in zip(st.columns(2), cells[row:row + 2], strict=True):
            column.metric(ui.t(key), f"{value:,}")
    unreviewed_link(counters.index)
    _hot_grids(counters, metric, grids)


def _hot_grids(counters, metric: str, grids) -> None:
    """The five grids that stand out on the chosen measure, each a link to its page."""
    low = METRICS[metric].low_stands_out
    values = counters[metric].fillna(-1.0 if low else float("inf"))
    top = values.sort_values(ascending=low, kind="stable").head(5)
    picked = grids[grids["grid_id"].isin(top.index)]  # five names, not 1,200, on every run
    names = dict(zip(picked["grid_id"], picked["name"], strict=True))
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
    source = CachedSource(engine, version, scope, day, lang, basemap.gcj02, ui.link_base())
    start = mapstate.arrival(repr(scope), MAP_KEY)
    reported = st.session_state.get(MAP_KEY)
    view = Viewport.from_map(reported)
    side, main = st.columns([1.25, 3.2], gap="medium")
    with side:
        choice = _choice()
    built = district.district_map(source, choice, basemap, view=view, start=start)
    with main:  # the map goes out before the side panel's counters: it is what people wait for
        state = st_folium(built.map, key=MAP_KEY, height=MAP_HEIGHT, use_container_width=True,
                          returned_objects=RETURNED, feature_group_to_add=built.layers)
    grid_id = _clicked_grid(state)
    if grid_id is not None:
        st.switch_page("app_pages/grid.py", query_params={"grid": str(grid_id)})
    if view is not None:
        centre = (reported or {}).get("center") or {}
        mapstate.remember_view((centre.get("lat"), centre.get("lng")) if centre else None,
                               view.zoom)
    with side:
        if built.households is not None:
            st.caption(ui.t("map.households.points", n=f"{len(built.households.rows):,}")
                       if built.households.kind == "household" else ui.t("map.households.cells"))
        grids, _towns, counters = source.frames()
        _counters(counters, choice.metric, grids, built.in_view)


def page() -> None:
    st.title(ui.t("map.title"))
    ui.demo_badge()
    day = today()
    st.caption(f"{ui.t('map.caption', today=day.isoformat())} {ui.t('map.copy_link')}")
    basemap = _setup()
    if basemap.problem:
        st.info(ui.t("map.basemap_problem", why=md(basemap.problem)))
    _map_panel(day)


page()
