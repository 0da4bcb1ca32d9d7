"""Streamlit glue shared by the supervision pages (review, consultation, follow-up, verification,
scoring, KPIs): pickers that follow deep links, the remembered "who acted", and tables shown with
the same translated columns that their Excel export writes.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

import ui
from minqing import audit
from minqing.audit import AuditAction
from minqing.supervision.reviews import area_choices
from minqing.xlsx import Sheet, workbook_bytes
from ui.casework import case_link


def actor() -> str:
    """Who acts: the signed-in account (the data layer records it from the scope too)."""
    return ui.viewer().label


def area_picker() -> tuple[int, str, str] | None:
    """An area of the current scope, following ``?area=``; (id, name, head) or None."""
    areas = area_choices(ui.engine(), scope=ui.current_scope())
    if not areas:
        st.info(ui.t("sv.no_areas"))
        return None
    by_id = {a[0]: a for a in areas}
    linked = ui.query_int("area")
    if linked in by_id and st.session_state.get("_linked_area") != linked:
        st.session_state.area_id = linked
        st.session_state._linked_area = linked
    if st.session_state.get("area_id") not in by_id:
        st.session_state.area_id = areas[0][0]
    area_id = st.selectbox(ui.t("sv.area"), list(by_id), key="area_id",
                           format_func=lambda i: f"{by_id[i][1]} · {by_id[i][2]}")
    st.query_params["area"] = str(area_id)
    return by_id[area_id]


def reasons_text(codes: list[str]) -> str:
    return ui.t("minutes.sep").join(ui.t(f"agenda.reason.{c}") for c in codes)


def case_table(frame: pd.DataFrame, extra: dict[str, object] | None = None) -> pd.DataFrame:
    """Cases (agenda lines and the like) as shown and exported: translated headers and codes."""
    shown = pd.DataFrame({
        ui.t("sv.col.link"): [case_link(i, c) for i, c in zip(frame["case_id"], frame["code"],
                                                               strict=True)],
        ui.t("sv.col.title"): frame["title"],
        ui.t("sv.col.grid"): frame["grid"],
        ui.t("sv.col.track"): [ui.t(f"track.{v}") for v in frame["track"]],
        ui.t("sv.col.status"): [ui.t(f"status.{v}") for v in frame["status"]],
        ui.t("sv.col.deadline"): frame["deadline"],
    })
    for label, values in (extra or {}).items():
        shown[label] = list(values)
    return shown


def show_table(shown: pd.DataFrame, *, key: str | None = None) -> None:
    """A table as the user reads it; case links show the case number."""
    if shown.empty:
        st.caption(ui.t("sv.empty"))
        return
    config = {}
    if ui.t("sv.col.link") in shown:
        config[ui.t("sv.col.link")] = st.column_config.LinkColumn(display_text=r"#(.+)$")
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, key=key)


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _plain_links(frame: pd.DataFrame) -> pd.DataFrame:
    """Link columns ("./case?case=1#MQ..." ) exported as the text they display."""
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if len(values) and values.map(
                lambda v: isinstance(v, str) and v[:1] in "./?" and "#" in v).all():
            out[col] = values.map(lambda v: v.split("#", 1)[1])
    return out


def export_sheet(shown: pd.DataFrame, *, title: str,
                 filters: list[tuple[str, object]] = ()) -> Sheet:
    """A table exactly as shown (translated headers, links as their text) with the on-screen
    filters stated above it."""
    stated = [(label, "" if value is None else str(value)) for label, value in filters]
    return Sheet(title=title, frame=_plain_links(shown), filters=stated)


def _exported(sheet: Sheet, file: str, scope) -> bytes:
    """The workbook, with the export recorded in the audit trail (who, what, how many rows)."""
    data = workbook_bytes([sheet])
    audit.record_for(ui.engine(), AuditAction.EXPORT, scope, target=f"{file}.xlsx", detail={
        "rows": len(sheet.frame), "scope": f"{scope.level}:{scope.id or ''}",
        "masked": not scope.reveals_personal_data})
    return data


def export_button(shown: pd.DataFrame, *, title: str, file: str,
                  filters: list[tuple[str, object]] = (), key: str | None = None) -> None:
    """Excel export of :func:`export_sheet`; the file is built (and the export audited) only
    when clicked."""
    sheet = export_sheet(shown, title=title, filters=filters)
    scope = ui.current_scope()
    st.download_button(ui.t("sv.export"), data=lambda: _exported(sheet, file, scope),
                       file_name=f"{file}.xlsx", mime=_XLSX, icon=":material/download:",
                       key=key or f"xlsx_{file}", on_click="ignore")


def town_filter() -> tuple[str, str]:
    """The town picker's choice (else the viewer's jurisdiction) as a filter line for exports."""
    viewer = ui.viewer()
    names = dict(ui.towns(ui.engine(), ui.version(), viewer.scope()))
    town = ui.current_town()
    return ui.t("app.town"), names[town] if town in names else ui.jurisdiction_name(viewer)


def blank(values) -> list:
    """Missing values shown as empty cells (not "None")."""
    return ["" if v is None or (not isinstance(v, str) and pd.isna(v)) else v for v in values]


@st.cache_resource(ttl=600, show_spinner=False, max_entries=64)  # shared, read-only
def _unreviewed(_engine, data_version: str, scope, day) -> pd.Series:
    from minqing.supervision.reviews import unreviewed_by_grid

    return unreviewed_by_grid(_engine, scope=scope, today=day)


def unreviewed_link(grid_ids) -> None:
    """Diary entries awaiting the weekly review in these grids (the map's scope or view), linked
    to the review page for roles that supervise."""
    from minqing.access import SUPERVISES
    from minqing.clock import today

    scope = ui.current_scope()
    waiting = _unreviewed(ui.engine(), ui.version(), scope, today())
    n = int(waiting.reindex(list(grid_ids)).fillna(0).sum())
    label = ui.t("review.unreviewed_count", n=f"{n:,}")
    if scope.viewer is None or scope.role in SUPERVISES:
        st.page_link("app_pages/review.py", label=label, icon=":material/rate_review:")
    else:
        st.caption(label)
