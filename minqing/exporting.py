"""Exports: grids with their counters as GeoPackage or GeoJSON; households, the open-case
backlog and the town rankings as Excel.

Every export reads through the caller's ``scope`` (only what the caller may see) and, for
household lists, ``mask`` hides personal data (names, phones, ID numbers, addresses) the way the
screens do; a viewer whose role does not see personal data always gets it masked, and every
export by a signed-in viewer is written to the audit trail (who, what, which scope, masked or not). Excel goes through :mod:`minqing.xlsx` (filters stated above the table, no live
formula whatever the residents typed).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, select

from minqing import audit, kpi
from minqing.casebook import open_cases
from minqing.clock import today as clock_today
from minqing.i18n import t
from minqing.mapdata import mask_name
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
    "mask_digits",
    "rankings_xlsx",
]

GRID_METRICS = ("households", "open_cases", "overdue_cases", "risks_90d", "diary_30d",
                "days_since_diary")


def mask_digits(value: str | None, keep_start: int = 3, keep_end: int = 4) -> str:
    """``13812345678`` -> ``138****5678``; short or empty values are hidden entirely."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def _audited(engine: Engine, scope: Scope, what: str, *, masked: bool, rows: int) -> None:
    if scope.viewer is not None:
        audit.record_for(engine, audit.AuditAction.EXPORT, scope, target=what,
                         detail={"scope": scope.level, "scope_id": scope.id, "masked": masked,
                                 "rows": rows})


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
    """The grid layer as a GeoPackage file (layer ``grids``)."""
    layer = grid_layer(engine, scope=scope, today=today)
    _audited(engine, scope, "grids.gpkg", masked=False, rows=len(layer))
    with tempfile.TemporaryDirectory(prefix="minqing-export-") as tmp:
        path = Path(tmp) / "grids.gpkg"
        layer.to_file(path, layer="grids", driver="GPKG")
        return path.read_bytes()


def grids_geojson(engine: Engine, *, scope: Scope, today: dt.date | None = None) -> bytes:
    """The grid layer as RFC 7946 GeoJSON (UTF-8, WGS84)."""
    layer = grid_layer(engine, scope=scope, today=today)
    _audited(engine, scope, "grids.geojson", masked=False, rows=len(layer))
    return layer.to_json(ensure_ascii=False, drop_id=True).encode("utf-8")


def household_table(engine: Engine, *, scope: Scope, mask: bool) -> pd.DataFrame:
    """Households in scope in the import column order (so an export can be re-imported)."""
    scope.require_person_level()
    mask = mask or not scope.reveals_personal_data
    stmt = (select(Household.code, Household.head_name, Household.phone, Household.id_number,
                   Household.address, Household.size, Household.tags, Household.lon,
                   Household.lat, Grid.code.label("grid_code"))
            .join(Grid, Grid.id == Household.grid_id)
            .where(scope.where(Household)).order_by(Household.code))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).all(),
                             columns=["code", "head_name", "phone", "id_number", "address",
                                      "size", "tags", "lon", "lat", "grid_code"])
    if mask:
        frame["head_name"] = frame["head_name"].map(mask_name)
        frame["phone"] = frame["phone"].map(mask_digits)
        frame["id_number"] = frame["id_number"].map(lambda v: mask_digits(v, 6, 4))
        frame["address"] = ""
    return frame


def _filters(engine: Engine, scope: Scope, lang: str, mask: bool) -> list[tuple[str, str]]:
    where = t("app.all_towns", lang)
    if scope.level != "district":
        with engine.connect() as conn:
            name = conn.scalar(select(Town.name).where(scope.where(Town)).limit(1))
        where = name or where
    out = [(t("export.filter.scope", lang), where),
           (t("export.filter.date", lang), clock_today().isoformat())]
    if mask:
        out.append((t("export.filter.masked", lang), t("export.masked_yes", lang)))
    return out


def households_xlsx(engine: Engine, *, scope: Scope, mask: bool, lang: str = "zh") -> bytes:
    mask = mask or not scope.reveals_personal_data
    frame = household_table(engine, scope=scope, mask=mask)
    _audited(engine, scope, "households.xlsx", masked=mask, rows=len(frame))
    headers = {col: t(f"export.col.{col}", lang) for col in frame.columns}
    return workbook_bytes([Sheet(t("export.sheet.households", lang), frame, headers,
                                 _filters(engine, scope, lang, mask))])


def backlog_xlsx(engine: Engine, *, scope: Scope, mask: bool, lang: str = "zh",
                 today: dt.date | None = None) -> bytes:
    """The open-case backlog (overdue first) with its deadline flags."""
    mask = mask or not scope.reveals_personal_data
    frame = open_cases(engine, scope=scope, today=today)
    _audited(engine, scope, "backlog.xlsx", masked=mask, rows=len(frame))
    frame = frame[["code", "title", "track", "status", "opened_on", "deadline", "days_left",
                   "overdue", "responsible", "leader", "green_channel", "grid", "household"]].copy()
    frame["track"] = frame["track"].map(lambda v: t(f"track.{v}", lang))
    frame["status"] = frame["status"].map(lambda v: t(f"status.{v}", lang))
    if mask:
        frame["household"] = frame["household"].map(lambda v: mask_name(v) if isinstance(v, str)
                                                    else "")
    headers = {col: t(f"export.col.{col}", lang) for col in frame.columns}
    return workbook_bytes([Sheet(t("export.sheet.backlog", lang), frame, headers,
                                 _filters(engine, scope, lang, mask))])


RANKING_KPIS = ("on_time_rate", "closure_rate", "cases_due", "problems_solved", "open_cases",
                "overdue_cases", "diary_entries", "grids", "households")
"""What the town ranking shows, ranked by the first two (KPI definitions from :mod:`minqing.kpi`)."""


def rankings_xlsx(engine: Engine, *, scope: Scope, lang: str = "zh",
                  today: dt.date | None = None) -> bytes:
    """Towns ranked by on-time closure rate, then closure rate (rates in %, over cases due)."""
    table = kpi.town_table(engine, scope=scope, kpis=RANKING_KPIS, today=today)
    frame = table[["name", *RANKING_KPIS]].copy() if not table.empty else pd.DataFrame(
        columns=["name", *RANKING_KPIS])
    frame = frame.sort_values(["on_time_rate", "closure_rate", "name"],
                              ascending=[False, False, True], na_position="last")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    _audited(engine, scope, "rankings.xlsx", masked=False, rows=len(frame))
    for col in ("on_time_rate", "closure_rate"):
        frame[col] = (pd.to_numeric(frame[col], errors="coerce") * 100).round(1)
    headers = {"rank": t("export.col.rank", lang), "name": t("export.col.name", lang)}
    headers.update({k: t(f"kpi.{k}", lang) + (" (%)" if k.endswith("_rate") else "")
                    for k in RANKING_KPIS})
    return workbook_bytes([Sheet(t("export.sheet.rankings", lang), frame.reset_index(drop=True),
                                 headers, _filters(engine, scope, lang, False))])
