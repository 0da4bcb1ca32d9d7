"""Grid (?grid=): profile, map, service group and pairings, counters, diary and backlog."""

from __future__ import annotations

import datetime as dt

import streamlit as st
from streamlit_folium import st_folium

import ui
from geo.basemap import resolve_basemap
from geo.grid_map import grid_map
from minqing import casebook, diary, grids
from minqing.access import SUPERVISES, Role
from minqing.clock import today
from minqing.drilldown import GridPage, grid_page
from minqing.settings import load_settings
from minqing.supervision.reviews import grid_review_status
from minqing.vocab import RecordKind, Source
from ui.caseforms import diary_form, diary_saved
from ui.casework import (
    backlog_table,
    households_table,
    missing_record,
    people_tables,
    timeline_table,
)
from ui.kpis import metrics, period
from ui.notices import calendar_banner
from ui.phone import grid_layout
from ui.safe import md


@st.cache_resource(ttl=600, show_spinner=False, max_entries=256)
def _load(_engine, data_version: str, scope, grid_id: int, day: dt.date) -> GridPage | None:
    """Everything the page shows except the filtered timeline, cached per data version: one
    shared, read-only copy (no unpickling per run, see ui.mapsource)."""
    return grid_page(_engine, scope=scope, grid_id=grid_id, today=day)


def _pick_grid() -> None:
    choices = grids.grid_choices(ui.engine(), scope=ui.current_scope())
    labels = dict(choices)
    picked = st.selectbox(ui.t("grid.pick"), list(labels), index=None,
                          format_func=lambda i: labels.get(i, ""),
                          placeholder=ui.t("grid.pick_placeholder"))
    if picked is not None:
        st.query_params["grid"] = str(picked)
        st.rerun()


def _scope_backlog() -> None:
    """Without a grid, the open cases of the whole selection, overdue first, across its grids."""
    backlog = casebook.open_cases(ui.engine(), scope=ui.current_scope(), today=today())
    st.subheader(ui.t("grid.scope_backlog", n=len(backlog)))
    backlog_table(backlog, show_grid=True)


def _header(p: grids.GridProfile) -> None:
    st.title(md(p.name))
    area = ui.t("grid.area_line", area=md(p.area), head=md(p.area_head))
    st.caption(f"{md(p.code)} · {md(p.town)} · {area} · {ui.t(f'grid_kind.{p.kind}')}")
    ui.demo_badge()
    cells = [(ui.t("kpi.households"), p.households), (ui.t("grid.population"), p.population)]
    cells += [(ui.t(f"tag.{tag}"), n) for tag, n in p.special.items()]
    with st.container(key="grid_head"):  # keyed blocks: see ui.phone
        for column, (label, value) in zip(st.columns(len(cells)), cells, strict=True):
            column.metric(label, f"{value:,}")


GRID_KPIS = (("diary_entries", "risks_found", "people_received", "opinions_taken", "cases_opened"),
             ("problems_solved", "cases_due", "on_time_rate", "open_cases", "overdue_cases"))


@st.cache_data(ttl=600, show_spinner=False, max_entries=256)
def _kpis(_engine, data_version: str, scope, grid_id: int, since: dt.date, until: dt.date,
          day: dt.date) -> dict | None:
    return grids.grid_kpis(_engine, scope=scope, grid_id=grid_id,
                           kpis=[k for row in GRID_KPIS for k in row], since=since, until=until,
                           today=day)


def _counters(grid_id: int, day: dt.date) -> None:
    since, until = period("grid_period")
    values = _kpis(ui.engine(), ui.version(), ui.current_scope(), grid_id, since, until, day)
    if values is not None:
        for row in GRID_KPIS:
            metrics(values, row)


def _map_and_people(data: GridPage) -> None:
    p = data.profile
    left, right = st.columns([3, 2])
    with left:
        m = grid_map(p.geom, name=p.name, households=data.points, backlog=data.backlog,
                     service_point=p.service_point, basemap=resolve_basemap(load_settings()),
                     lang=ui.lang(), link_base=ui.link_base())
        st_folium(m, key=f"grid_map_{p.id}", height=420, use_container_width=True,
                  returned_objects=[])
    with right:
        people_tables(data.group, data.pairings)


def _review_status(grid_id: int) -> None:
    """How many of the grid's entries await the area head's weekly review, with a link there."""
    status = grid_review_status(ui.engine(), scope=ui.current_scope(), grid_id=grid_id,
                                today=today())
    if status is None:
        return
    label = ui.t("review.unreviewed_count", n=status[0])
    if Role(ui.viewer().role) in SUPERVISES:  # only they have the review page to link to
        st.page_link("app_pages/review.py", icon=":material/rate_review:", label=label,
                     query_params={"area": str(status[1])})
    else:
        st.caption(label)


def _timeline(data: GridPage) -> None:
    f1, f2, f3 = st.columns([2, 3, 2])
    kinds = f1.multiselect(ui.t("diary.field.kind"), [k.value for k in RecordKind],
                           format_func=lambda c: ui.t(f"kind.{c}"), key="tl_kinds",
                           placeholder=ui.t("grid.filter_all"))
    sources = f2.multiselect(ui.t("diary.field.source"), [s.value for s in Source],
                             format_func=lambda c: ui.t(f"source.{c}"), key="tl_sources",
                             placeholder=ui.t("grid.filter_all"))
    span = f3.date_input(ui.t("grid.dates"), value=(), key="tl_dates")
    since, until = ((*tuple(span), None, None))[:2] if span else (None, None)
    filters = diary.TimelineFilter(kinds=tuple(kinds), sources=tuple(sources), since=since,
                                   until=until)
    if filters == diary.TimelineFilter():
        timeline_table(data.recent)
        return
    timeline_table(diary.timeline(ui.engine(), scope=ui.current_scope(),
                                  grid_id=data.profile.id, filters=filters))


def page() -> None:
    grid_id, raw = ui.query_int("grid"), st.query_params.get("grid")
    data = _load(ui.engine(), ui.version(), ui.current_scope(), grid_id, today()) \
        if grid_id is not None else None
    if data is None:
        st.title(ui.t("nav.grid"))
        missing_record("grid", raw)
        _pick_grid()
        _scope_backlog()
        return
    grid_layout(entry_first=st.query_params.get("entry") == "new")
    _header(data.profile)
    calendar_banner()
    with st.container(key="grid_counters"):
        _counters(grid_id, today())
    with st.container(key="grid_map"):
        _map_and_people(data)
    work = st.container(key="grid_work")  # the form and the tabs: first on a phone (ui.phone)
    with work:
        diary_saved(grid_id)
    tab_write, tab_backlog, tab_diary, tab_homes = work.tabs([
        f":material/edit_note: {ui.t('grid.tab.write')}",
        f":material/pending_actions: {ui.t('grid.tab.backlog', n=len(data.backlog))}",
        f":material/menu_book: {ui.t('grid.tab.diary')}",
        f":material/home: {ui.t('grid.tab.households', n=len(data.points))}"])
    with tab_write:
        diary_form(grid_id=grid_id, cadres=data.cadres, households=data.households)
    with tab_backlog:
        backlog_table(data.backlog)
    with tab_diary:
        _review_status(grid_id)
        _timeline(data)
    with tab_homes:
        households_table(data.points)


page()
