"""The data officer's import flow: upload, preview (report + map), then apply or cancel.

The previewed :class:`minqing.importer.Plan` waits in the session between runs; applying it
writes everything in one transaction, and cancelling drops it, so nothing stored changes until
the officer has seen the report. The upload is written to a temporary file only for the preview.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

import ui
from geo.importing import DATUMS
from geo.importmap import POINT_LIMIT, preview_map
from minqing.errors import DomainError
from minqing.importer import Plan, StalePlan, apply, findings_frame
from ui.safe import md

PLAN = "_import_plan"
FLASH = "_import_flash"
SUFFIXES = {"grids": ["gpkg", "zip", "geojson", "json", "kml"],
            "households": ["csv", "txt", "xlsx"]}
CRS_CHOICES = (None, "EPSG:4490", "EPSG:4326",
               *(f"EPSG:{code}" for code in range(4534, 4555)),
               *(f"EPSG:{code}" for code in range(4513, 4534)))


def _progress():
    bar = st.progress(0.0)

    def update(stage: str, fraction: float) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=ui.t("data.progress",
                                                             stage=ui.t(f"data.stage.{stage}")))

    return bar, update


def _preview(kind: str, upload, datum: str, crs: str | None) -> Plan:
    from minqing.grid_import import preview_grids
    from minqing.household_import import preview_households

    bar, progress = _progress()
    with tempfile.TemporaryDirectory(prefix="minqing-upload-") as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        scope = ui.viewer().scope()  # the whole jurisdiction, whatever the town picker shows
        if kind == "grids":
            plan = preview_grids(ui.engine(), path, scope=scope, crs=crs,
                                 datum="wgs84" if datum == "auto" else datum, progress=progress)
        else:
            plan = preview_households(ui.engine(), path, scope=scope, crs=crs,
                                      datum=None if datum == "auto" else datum, progress=progress)
    bar.empty()
    return plan


def form() -> None:
    """Kind, file and options; the preview button stores a plan in the session."""
    kind = st.radio(ui.t("data.kind"), list(SUFFIXES), horizontal=True,
                    format_func=lambda k: ui.t(f"data.kind.{k}"), key="import_kind")
    upload = st.file_uploader(ui.t("data.file"), type=SUFFIXES[kind], key=f"import_file_{kind}")
    left, right = st.columns(2)
    datum = left.selectbox(ui.t("data.datum"), ["auto", *DATUMS],
                           format_func=lambda d: ui.t(f"data.datum.{d}"), key="import_datum")
    crs = right.selectbox(ui.t("data.crs"), CRS_CHOICES, key="import_crs",
                          format_func=lambda c: ui.t("data.crs.auto") if c is None else c)
    if st.button(ui.t("data.preview"), type="primary", disabled=upload is None):
        st.session_state[PLAN] = _preview(kind, upload, datum, crs)


def _summary(plan: Plan) -> None:
    report = plan.report
    counts = {k: report.counts.get(k, 0) for k in ("new", "updated", "unchanged", "skipped")}
    st.markdown(md(ui.t("data.summary", rows=report.rows, **counts)))
    st.caption(md(ui.t("data.source_info", encoding=report.encoding or "-",
                       crs=report.crs or "-", datum=report.datum)))
    if report.blocked:
        st.error(ui.t("data.blocked"))


def _findings(plan: Plan) -> None:
    table = findings_frame(plan.report, ui.lang())
    st.markdown(f"**{md(ui.t('data.findings', n=len(table)))}**")
    if table.empty:
        st.success(ui.t("data.no_findings"))
        return
    height = min(320, 36 * (len(table) + 1) + 2)  # no empty rows under a short report
    st.dataframe(table, hide_index=True, width="stretch", height=height, column_config={
        col: ui.t(f"data.col.{col}") for col in table.columns})
    if plan.report.moved:
        st.markdown(f"**{md(ui.t('data.moved', n=len(plan.report.moved)))}**")
        moved = pd.DataFrame(plan.report.moved)
        st.dataframe(moved, hide_index=True, width="stretch", height=220,
                     column_config={"household": ui.t("data.col.household"),
                                    "from": ui.t("data.col.from"), "to": ui.t("data.col.to")})


def _map(plan: Plan, basemap) -> None:
    if plan.preview is None or plan.preview.empty:
        return
    st.markdown(f"**{md(ui.t('data.map'))}**")
    if len(plan.preview) > POINT_LIMIT:
        st.caption(ui.t("data.map_hint", n=f"{POINT_LIMIT:,}"))
    st_folium(preview_map(plan.preview, basemap=basemap, row_label=ui.t("data.col.row")),
              key="import_preview_map", height=460, use_container_width=True,
              returned_objects=[])


def _decide(plan: Plan) -> None:
    go, stop = st.columns([1, 1])
    if go.button(ui.t("data.apply"), type="primary", disabled=not plan.applicable):
        bar, progress = _progress()
        try:
            counts = apply(ui.engine(), plan, scope=ui.viewer().scope(), progress=progress)
            st.session_state[FLASH] = ("success", ui.t("data.applied", new=counts.get("new", 0),
                                                       updated=counts.get("updated", 0),
                                                       moved=counts.get("moved", 0)))
        except StalePlan:
            st.session_state[FLASH] = ("warning", ui.t("data.stale"))
        except DomainError as exc:  # not allowed, or a rule of the layer versions
            st.session_state[FLASH] = ("error", exc.message(ui.lang()))
        except Exception as exc:  # rolled back: say so, keep the page alive
            st.session_state[FLASH] = ("error", ui.t("data.failed", reason=type(exc).__name__))
        bar.empty()
        st.session_state.pop(PLAN, None)
        st.rerun()
    if stop.button(ui.t("data.cancel")):
        st.session_state.pop(PLAN, None)
        st.session_state[FLASH] = ("info", ui.t("data.cancelled"))
        st.rerun()
    if not plan.applicable and not plan.report.blocked:
        st.caption(ui.t("data.nothing"))


def review(basemap) -> None:
    """The report, the map and the apply / cancel buttons of the plan in the session."""
    flash = st.session_state.pop(FLASH, None)
    if flash:
        getattr(st, flash[0])(md(flash[1]))
    plan: Plan | None = st.session_state.get(PLAN)
    if plan is None:
        return
    st.divider()
    st.subheader(md(plan.report.source))
    _summary(plan)
    _findings(plan)
    _map(plan, basemap)
    _decide(plan)
