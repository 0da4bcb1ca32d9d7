"""Exports: grids with their counters as GeoPackage or GeoJSON; households, the open-case
backlog and the town rankings as Excel.

Every export reads through the caller's ``scope``, which carries the viewer: only what lies in
the viewer's jurisdiction, personal data (names, phones, ID numbers, addresses) masked by the
one policy of :mod:`minqing.access` for roles that do not see it, and only for roles that move
data (:data:`minqing.access.MOVES_DATA`). Each export is recorded in the audit trail (who, what,
how many rows, masked or not). Excel goes through :mod:`minqing.xlsx` (filters stated above the
table, no live formula whatever the residents typed).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, select

from minqing import audit, kpi
from minqing.access import MOVES_DATA, AccessDenied, protect
from minqing.audit import AuditAction
from minqing.casebook import open_cases
from minqing.clock import today as clock_today
from minqing.i18n import t
from minqing.models import Area, Grid, Household, Town
from minqing.scope import Scope
from minqing.xlsx import Sheet, workbook_bytes

__all__ = [
    "backlog_xlsx",
    "grid_layer",
    "grids_geojson",
    "grids_gpkg",
    "household_table",
    "households_xlsx",
    "rankings_xlsx",
]

GRID_METRICS = ("households", "open_cases", "overdue_cases", "risks_90d", "diary_30d",
                "days_since_diary")


_PERSONAL = {"head_name": "name", "phone": "phone", "id_number": "id_number",
             "address": "address"}


def _may_export(scope: Scope) -> None:
    if scope.viewer is not None and scope.role not in MOVES_DATA:
        raise AccessDenied("data.error.export_not_allowed")


def _audit(engine: Engine, scope: Scope, what: str, rows: int) -> None:
    audit.record_for(engine, AuditAction.EXPORT, scope, target=what, detail={
        "rows": rows, "scope": f"{scope.level}:{scope.id or ''}",
        "masked": not scope.reveals_personal_data})


def grid_layer(engine: Engine, *, scope: Scope, today: dt.date | None = None) -> gpd.GeoDataFrame:
    """Grids in scope with town, area, kind and the map's counters, in EPSG:4326."""
    stmt = (select(Grid.id, Grid.code, Grid.name, Grid.kind, Town.name.label("town"),
                   Area.name.label("area"), Grid.geom)
            .join(Town, Town.id == Grid.town_id).join(Area, Area.id == Grid.area_id)
            .where(scope.where(Grid)).order_by(Grid.code))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).mappings().all(),
                             columns=["id", "code", "name", "kind", "town", "area", "geom"])
    counters = kpi.grid_counters(engine, scope=scope, today=today)
    frame = frame.join(counters[list(GRID_METRICS)], on="id")
    geometry = frame.pop("geom")
    return gpd.GeoDataFrame(frame.drop(columns="id"), geometry=list(geometry), crs="EPSG:4326")


def grids_gpkg(engine: Engine, *, scope: Scope, today: dt.date | None = None) -> bytes:
    """The grid layer as a GeoPackage file (layer ``grids``); audited."""
    _may_export(scope)
    layer = grid_layer(engine, scope=scope, today=today)
    _audit(engine, scope, "grids.gpkg", len(layer))
    with tempfile.TemporaryDirectory(prefix="minqing-export-") as tmp:
        path = Path(tmp) / "grids.gpkg"
        layer.to_file(path, layer="grids", driver="GPKG")
        return path.read_bytes()


def grids_geojson(engine: Engine, *, scope: Scope, today: dt.date | None = None) -> bytes:
    """The grid layer as RFC 7946 GeoJSON (UTF-8, WGS84); audited."""
    _may_export(scope)
    layer = grid_layer(engine, scope=scope, today=today)
    _audit(engine, scope, "grids.geojson", len(layer))
    return layer.to_json(ensure_ascii=False, drop_id=True).encode("utf-8")


def household_table(engine: Engine, *, scope: Scope) -> pd.DataFrame:
    """Households in scope in the import column order (so an export can be re-imported),
    personal data masked for a viewer who may not see it."""
    scope.require_person_level()
    stmt = (select(Household.code, Household.head_name, Household.phone, Household.id_number,
                   Household.address, Household.size, Household.tags, Household.lon,
                   Household.lat, Grid.code.label("grid_code"))
            .join(Grid, Grid.id == Household.grid_id)
            .where(scope.where(Household)).order_by(Household.code))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).all(),
                             columns=["code", "head_name", "phone", "id_number", "address",
                                      "size", "tags", "lon", "lat", "grid_code"])
    return protect(frame, scope, _PERSONAL)


def _filters(engine: Engine, scope: Scope, lang: str) -> list[tuple[str, str]]:
    where = t("app.all_towns", lang)
    if scope.level != "district":
        with engine.connect() as conn:
            name = conn.scalar(select(Town.name).where(scope.where(Town)).limit(1))
        where = name or where
    out = [(t("export.filter.scope", lang), where),
           (t("export.filter.date", lang), clock_today().isoformat())]
    if not scope.reveals_personal_data:
        out.append((t("export.filter.masked", lang), t("export.masked_yes", lang)))
    return out


def households_xlsx(engine: Engine, *, scope: Scope, lang: str = "zh") -> bytes:
    """The household list (masked for a viewer who may not see personal data); audited."""
    _may_export(scope)
    frame = household_table(engine, scope=scope)
    headers = {col: t(f"export.col.{col}", lang) for col in frame.columns}
    data = workbook_bytes([Sheet(t("export.sheet.households", lang), frame, headers,
                                 _filters(engine, scope, lang))])
    _audit(engine, scope, "households.xlsx", len(frame))
    return data


def backlog_xlsx(engine: Engine, *, scope: Scope, lang: str = "zh",
                 today: dt.date | None = None) -> bytes:
    """The open-case backlog (overdue first) with its deadline flags, names masked by
    :func:`minqing.casebook.open_cases` for the viewer; audited."""
    _may_export(scope)
    frame = open_cases(engine, scope=scope, today=today)
    frame = frame[["code", "title", "track", "status", "opened_on", "deadline", "days_left",
                   "overdue", "responsible", "leader", "green_channel", "grid", "household"]].copy()
    frame["track"] = frame["track"].map(lambda v: t(f"track.{v}", lang))
    frame["status"] = frame["status"].map(lambda v: t(f"status.{v}", lang))
    headers = {col: t(f"export.col.{col}", lang) for col in frame.columns}
    data = workbook_bytes([Sheet(t("export.sheet.backlog", lang), frame, headers,
                                 _filters(engine, scope, lang))])
    _audit(engine, scope, "backlog.xlsx", len(frame))
    return data


RANKING_KPIS = ("on_time_rate", "closure_rate", "cases_due", "problems_solved", "open_cases",
                "overdue_cases", "diary_entries", "grids", "households")
"""What the town ranking shows, ranked by the first two (KPI definitions from :mod:`minqing.kpi`)."""


def rankings_xlsx(engine: Engine, *, scope: Scope, lang: str = "zh",
                  today: dt.date | None = None) -> bytes:
    """Towns ranked by on-time closure rate, then closure rate (rates in %, over cases due);
    audited."""
    _may_export(scope)
    table = kpi.town_table(engine, scope=scope, kpis=RANKING_KPIS, today=today)
    frame = table[["name", *RANKING_KPIS]].copy() if not table.empty else pd.DataFrame(
        columns=["name", *RANKING_KPIS])
    frame = frame.sort_values(["on_time_rate", "closure_rate", "name"],
                              ascending=[False, False, True], na_position="last")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    for col in ("on_time_rate", "closure_rate"):
        frame[col] = (pd.to_numeric(frame[col], errors="coerce") * 100).round(1)
    headers = {"rank": t("export.col.rank", lang), "name": t("export.col.name", lang)}
    headers.update({k: t(f"kpi.{k}", lang) + (" (%)" if k.endswith("_rate") else "")
                    for k in RANKING_KPIS})
    data = workbook_bytes([Sheet(t("export.sheet.rankings", lang), frame.reset_index(drop=True),
                                 headers, _filters(engine, scope, lang))])
    _audit(engine, scope, "rankings.xlsx", len(frame))
    return data
