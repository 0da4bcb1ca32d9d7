"""Data import and export (数据导入导出), for data officers: grids and households in with a
preview report before anything is written; grids, households, the backlog and rankings out."""

from __future__ import annotations

import streamlit as st

import ui
from geo.assets import use_local_assets
from geo.basemap import resolve_basemap
from minqing import exporting
from minqing.clock import today
from minqing.settings import load_settings
from minqing.store import upgrade
from ui import importflow
from ui.safe import md

EXPORTS = {  # key: (file name, MIME type)
    "grids_gpkg": ("grids.gpkg", "application/geopackage+sqlite3"),
    "grids_geojson": ("grids.geojson", "application/geo+json"),
    "households": ("households.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "backlog": ("backlog.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "rankings": ("rankings.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


@st.cache_resource(show_spinner=False)
def _setup():
    """Offline Leaflet files, the basemap, and the schema (an empty store is where imports start)."""
    use_local_assets()
    upgrade(load_settings().database_url)
    return resolve_basemap(load_settings())


def _export_bytes(key: str, scope, lang: str) -> bytes:
    """Built only when the button is clicked (and then audited): a page view costs nothing."""
    engine, day = ui.engine(), today()
    if key == "grids_gpkg":
        return exporting.grids_gpkg(engine, scope=scope, today=day)
    if key == "grids_geojson":
        return exporting.grids_geojson(engine, scope=scope, today=day)
    if key == "households":
        return exporting.households_xlsx(engine, scope=scope, lang=lang)
    if key == "backlog":
        return exporting.backlog_xlsx(engine, scope=scope, lang=lang, today=day)
    return exporting.rankings_xlsx(engine, scope=scope, lang=lang, today=day)


def _export_tab() -> None:
    scope, lang = ui.current_scope(), ui.lang()
    names = dict(ui.towns(ui.engine(), ui.version(), ui.viewer().scope()))
    where = ui.t("app.all_towns") if scope.level == "district" else names.get(scope.id, "")
    st.caption(md(ui.t("data.export.scope", scope=where)))
    if not scope.reveals_personal_data:
        st.caption(ui.t("data.export.masked"))
    for key, (name, mime) in EXPORTS.items():
        st.download_button(ui.t(f"data.export.{key}"),
                           data=lambda key=key: _export_bytes(key, scope, lang),
                           file_name=name, mime=mime, on_click="ignore",
                           icon=":material/download:", key=f"export_{key}")


def page() -> None:
    st.title(ui.t("data.title"))
    st.caption(ui.t("data.caption"))
    basemap = _setup()
    imports, exports = st.tabs([ui.t("data.tab.import"), ui.t("data.tab.export")])
    with imports:
        importflow.form()
        importflow.review(basemap)
    with exports:
        if ui.towns(ui.engine(), ui.version(), ui.viewer().scope()):
            _export_tab()


page()
