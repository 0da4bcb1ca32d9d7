"""Grid layers in: read a GIS file, check it, and plan the changes to the stored grids.

A grid import adds new grids and updates changed ones in the current grid layer; grids of the
store that the file leaves out are kept (they still carry diary entries and cases). Towns and
areas named in the file (or implied by the 15-digit codes) are created when missing. Households
whose location now falls in another grid are moved, and listed in the report. Reading, CRS and
geometry checks are :mod:`geo.importing`; previewing and applying follow :mod:`minqing.importer`.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon
from sqlalchemy import Engine, bindparam, insert, select, update

from geo.importing import (
    Finding,
    UnreadableFile,
    check_coverage,
    code_pattern,
    convert_geometry_datum,
    metric_crs_for,
    outside,
    read_grid_layer,
    repair_geometries,
    to_wgs84,
)
from minqing.importer import (
    ImportReport,
    Plan,
    Progress,
    locate,
    map_columns,
    store_context,
    stored_households,
    text_cells,
    tick,
    unreadable_plan,
    within,
)
from minqing.layers import GridSpec, create_layer, publish_layer, snapshot_current
from minqing.models import Area, Grid, GridLayer, Household, Town
from minqing.scope import Scope
from minqing.vocab import GridKind, TownKind

__all__ = ["GRID_FIELDS", "preview_grids"]

REQUIRED = ("code",)
# field -> accepted column headers (compared case-insensitively, spaces and brackets ignored)
GRID_FIELDS: dict[str, tuple[str, ...]] = {
    "code": ("code", "grid_code", "网格编码", "网格代码", "网格编号", "wgbm", "bm"),
    "name": ("name", "grid_name", "网格名称", "网格名", "名称", "wgmc", "mc"),
    "town": ("town", "town_name", "镇街", "乡镇", "街道", "镇街名称", "所属镇街"),
    "area": ("area", "片区", "片", "所属片区"),
    "kind": ("kind", "type", "类型", "网格类型"),
    "village": ("village", "村社区", "所属村社区", "村（社区）", "行政村", "社区"),
}

# --- grids -------------------------------------------------------------------------------------


def _town_kind(name: str) -> str:
    return TownKind.SUBDISTRICT.value if name.endswith("街道") else TownKind.TOWN.value


def _grid_kind(raw: str, town_kind: str) -> str | None:
    value = raw.strip().lower()
    if value in ("rural", "农村", "村", "村网格", "农村网格"):
        return GridKind.RURAL.value
    if value in ("urban", "城市", "社区", "社区网格", "城市网格", "城镇"):
        return GridKind.URBAN.value
    if value:
        return None
    return GridKind.URBAN.value if town_kind == TownKind.SUBDISTRICT.value else GridKind.RURAL.value


def preview_grids(engine: Engine, path: str | Path, *, scope: Scope | None = None,
                  crs: str | None = None, datum: str = "wgs84",
                  progress: Progress | None = None) -> Plan:
    """Read and check a grid layer against the store; nothing is written.

    Parameters
    ----------
    engine : Engine
    path : str or Path
        GeoPackage, zipped Shapefile, GeoJSON or KML.
    scope : Scope, optional
        The importer's jurisdiction: grids of other towns (or of new towns, below the district)
        are left out and reported.
    crs : str, optional
        The source CRS when the user has been asked (``EPSG:4549``); overrides the file.
    datum : {"wgs84", "gcj02", "bd09"}
        The datum of geographic coordinates (web-map files are GCJ-02 or BD-09).
    progress : callable, optional
        Called with (stage, fraction done).

    Returns
    -------
    Plan
    """
    path = Path(path)
    ctx = store_context(engine, scope)
    report = ImportReport(kind="grids", source=path.name, datum=datum)
    tick(progress, "read", 0.0)
    try:
        layer = read_grid_layer(path)
    except UnreadableFile as exc:
        return unreadable_plan(report, exc, ctx["version"])
    report.rows, report.encoding = len(layer.frame), layer.encoding
    report.findings += layer.findings
    columns = map_columns([c for c in layer.frame.columns if c not in ("_row", "geometry")],
                           GRID_FIELDS)
    missing = [f for f in REQUIRED if f not in columns]
    for name in missing:
        report.findings.append(Finding("field_missing", "ask", field=name,
                                       detail={"aliases": " / ".join(GRID_FIELDS[name][:4])}))
    if missing:
        return Plan(report=report, stamp=ctx["version"])
    tick(progress, "crs", 0.2)
    district = ctx["district"]
    near_lon = district.centroid.x if district is not None else None
    frame, choice, found = to_wgs84(layer.frame, layer.declared_crs, crs=crs, near_lon=near_lon)
    report.findings += found
    report.crs = choice.crs
    if frame is None:
        return Plan(report=report, stamp=ctx["version"])
    if datum != "wgs84":
        frame["geometry"] = convert_geometry_datum(frame.geometry.to_numpy(), datum)
        report.findings.append(Finding("datum_converted", "convert", value=datum))
    metric = metric_crs_for(frame.geometry.to_numpy())
    tick(progress, "repair", 0.4)
    frame, found = repair_geometries(frame, metric)
    report.findings += found
    table = pd.DataFrame({"row": frame["_row"].to_numpy()})
    for name in GRID_FIELDS:
        table[name] = text_cells(frame[columns[name]], fold=name == "code") if name in columns else ""
    keep = np.ones(len(table), dtype=bool)
    _row_checks_grids(table, frame, ctx, metric, keep, report)
    frame, table = frame[keep].reset_index(drop=True), table[keep].reset_index(drop=True)
    tick(progress, "places", 0.6)
    plan = _place_grids(table, frame, ctx, report)
    tick(progress, "coverage", 0.75)
    checked = gpd.GeoDataFrame({"_row": table["row"], "code": table["code"]},
                               geometry=frame.geometry.to_numpy(), crs="EPSG:4326")
    report.findings += check_coverage(checked, metric, district=district)
    tick(progress, "households", 0.85)
    _grid_moves(engine, plan, ctx, report)
    report.findings.sort(key=lambda f: (f.row is None, f.row or 0))
    problems = report.problem_rows()
    preview = gpd.GeoDataFrame({"row": table["row"], "code": table["code"],
                                "name": table["name"],
                                "problem": table["row"].isin(problems)},
                               geometry=frame.geometry.to_numpy(), crs="EPSG:4326")
    plan.preview = preview
    tick(progress, "done", 1.0)
    return plan


def _row_checks_grids(table: pd.DataFrame, frame: gpd.GeoDataFrame, ctx: dict, metric: str,
                      keep: np.ndarray, report: ImportReport) -> None:
    rows = table["row"].to_numpy()
    codes = table["code"]
    f = report.findings
    for i in np.flatnonzero(codes.eq("").to_numpy()):
        f.append(Finding("value_empty", "skip", row=int(rows[i]), field="code"))
        keep[i] = False
    dup = codes.duplicated(keep="first").to_numpy() & keep
    first_row = dict(zip(codes[~codes.duplicated()], rows[~codes.duplicated().to_numpy()],
                         strict=True))
    for i in np.flatnonzero(dup):
        f.append(Finding("duplicate_code", "skip", row=int(rows[i]), field="code",
                         value=codes.iloc[i], detail={"first_row": int(first_row[codes.iloc[i]])}))
        keep[i] = False
    pattern = code_pattern(codes)
    prefix = str(ctx["towns"]["code"].iloc[0])[:6] if len(ctx["towns"]) else None
    for i in np.flatnonzero(keep & ~pattern):
        f.append(Finding("grid_code_pattern", "keep", row=int(rows[i]), field="code",
                         value=codes.iloc[i]))
    if prefix:
        for i in np.flatnonzero(keep & pattern & ~codes.str.startswith(prefix).to_numpy()):
            f.append(Finding("grid_code_district", "keep", row=int(rows[i]), field="code",
                             value=codes.iloc[i], detail={"prefix": prefix}))
    for i in np.flatnonzero(keep & table["name"].eq("").to_numpy()):
        f.append(Finding("name_default", "default", row=int(rows[i]), field="name"))
    table.loc[table["name"].eq(""), "name"] = table["code"]
    if ctx["district"] is not None and len(frame):
        away = outside(frame.geometry.to_numpy(), ctx["district"], metric)
        for i in np.flatnonzero(keep & away):
            point = frame.geometry.iloc[i].representative_point()
            f.append(Finding("outside_district", "skip", row=int(rows[i]), field="geometry",
                             value=codes.iloc[i],
                             detail={"lon": round(point.x, 5), "lat": round(point.y, 5)}))
            keep[i] = False


def _place_grids(table: pd.DataFrame, frame: gpd.GeoDataFrame, ctx: dict,
                 report: ImportReport) -> Plan:
    """Town, area and kind of every grid; new towns and areas; inserts and updates."""
    towns, areas, stored = ctx["towns"], ctx["areas"], ctx["grids"]
    by_name = dict(zip(towns["name"], towns["id"], strict=True))
    by_code = dict(zip(towns["code"].astype(str), towns["id"], strict=True))
    kind_of = dict(zip(towns["id"], towns["kind"], strict=True))
    geoms = frame.geometry.to_numpy()
    spatial = locate(*shapely.get_coordinates(shapely.point_on_surface(geoms)).T,
                     towns["geom"].to_numpy()) if len(towns) and len(geoms) else \
        np.full(len(geoms), -1)
    new_towns: dict[str, dict] = {}
    town_ref: list[object] = []  # an existing id, or ("new", key)
    keep = np.ones(len(table), dtype=bool)
    for i, row in enumerate(table.itertuples(index=False)):
        ref = by_name.get(row.town) or by_code.get(row.town) or by_code.get(row.code[:9])
        if ref is None and spatial[i] >= 0 and not row.town:
            ref = int(towns["id"].iloc[spatial[i]])
        if ref is None and (row.town or len(row.code) == 15):
            key = row.town or row.code[:9]
            code = row.code[:9] if len(row.code) == 15 else key
            if key not in new_towns:
                new_towns[key] = {"key": key, "code": code, "name": row.town or code,
                                  "kind": _town_kind(row.town), "rows": []}
                report.findings.append(Finding("town_new", "note", row=int(row.row), field="town",
                                               value=new_towns[key]["name"]))
            new_towns[key]["rows"].append(i)
            ref = ("new", key)
        if ref is None:
            report.findings.append(Finding("town_unknown", "skip", row=int(row.row), field="town",
                                           value=row.town))
            keep[i] = False
        elif ctx["towns_in"] is not None and (isinstance(ref, tuple) or ref not in ctx["towns_in"]):
            report.findings.append(Finding("outside_jurisdiction", "skip", row=int(row.row),
                                           field="town", value=row.town or row.code))
            keep[i] = False
        town_ref.append(ref)
    # kinds, areas
    kinds, area_refs = [], []
    area_index = {(int(t), n): int(a) for a, t, n in areas[["id", "town_id", "name"]].itertuples(
        index=False)}
    new_areas: dict[tuple, dict] = {}
    for i, row in enumerate(table.itertuples(index=False)):
        ref = town_ref[i]
        tkind = new_towns[ref[1]]["kind"] if isinstance(ref, tuple) else kind_of.get(ref, "town")
        kind = _grid_kind(row.kind, tkind)
        if kind is None:
            report.findings.append(Finding("grid_kind_unknown", "default", row=int(row.row),
                                           field="kind", value=row.kind))
            kind = _grid_kind("", tkind)
        kinds.append(kind)
        if ref is None:
            area_refs.append(None)
            continue
        existing_code = stored.loc[stored["code"] == row.code]
        if not row.area and len(existing_code) and not isinstance(ref, tuple) \
                and int(existing_code["town_id"].iloc[0]) == ref:
            area_refs.append(int(existing_code["area_id"].iloc[0]))
            continue
        town_name = new_towns[ref[1]]["name"] if isinstance(ref, tuple) else \
            str(towns.loc[towns["id"] == ref, "name"].iloc[0])
        area_name = row.area or town_name
        if not isinstance(ref, tuple) and (int(ref), area_name) in area_index:
            area_refs.append(area_index[(int(ref), area_name)])
            continue
        if not isinstance(ref, tuple) and not row.area:
            own = areas.loc[areas["town_id"] == ref, "id"]
            if len(own):
                area_refs.append(int(own.min()))
                continue
        akey = (ref if isinstance(ref, tuple) else int(ref), area_name)
        if akey not in new_areas:
            new_areas[akey] = {"key": akey, "town": akey[0], "name": area_name}
            report.findings.append(Finding("area_new", "note", row=int(row.row), field="area",
                                           value=area_name))
        area_refs.append(("new", akey))
    out = pd.DataFrame({"row": table["row"], "code": table["code"], "name": table["name"],
                        "kind": kinds, "town": town_ref, "area": area_refs,
                        "village": table["village"]})
    out["geom"] = geoms
    out = out[keep].reset_index(drop=True)
    for key, town in new_towns.items():
        members = out.loc[out["town"].map(lambda r, k=key: r == ("new", k)), "geom"].to_numpy()
        town["geom"] = MultiPolygon(list(_polygons(shapely.union_all(members))))
    # compare with the store
    known = stored.set_index("code")
    is_old = out["code"].isin(known.index).to_numpy()
    updates_mask = np.zeros(len(out), dtype=bool)
    unchanged = 0
    for i in np.flatnonzero(is_old):
        old = known.loc[out["code"].iloc[i]]
        same = (old["name"] == out["name"].iloc[i] and old["kind"] == out["kind"].iloc[i]
                and old["town_id"] == out["town"].iloc[i] and old["area_id"] == out["area"].iloc[i]
                and out["village"].iloc[i] in ("", old["village"])
                and shapely.equals_exact(old["geom"], out["geom"].iloc[i], tolerance=1e-7))
        if same:
            unchanged += 1
        else:
            updates_mask[i] = True
    updates = out[updates_mask].copy()
    updates["id"] = known.loc[updates["code"], "id"].to_numpy() if len(updates) else []
    left_out = sorted(set(known.index) - set(out["code"]))
    if left_out:
        report.findings.append(Finding("grids_not_in_file", "keep",
                                       detail={"n": len(left_out),
                                               "codes": ", ".join(left_out[:5])}))
    report.counts = {"new": int((~is_old).sum()), "updated": int(updates_mask.sum()),
                     "unchanged": unchanged, "skipped": int(report.rows - len(out)),
                     "towns_new": len(new_towns), "areas_new": len(new_areas)}
    return Plan(report=report, stamp=ctx["version"], writer=_write, inserts=out[~is_old].reset_index(drop=True),
                updates=updates.reset_index(drop=True), new_towns=list(new_towns.values()),
                new_areas=list(new_areas.values()))


def _polygons(geom):
    return [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]


def _grid_moves(engine: Engine, plan: Plan, ctx: dict, report: ImportReport) -> None:
    """Every stored household's grid in the new layer, and the ones that change grid.

    A household goes to the grid of the new layer its point lies in; one that lies in none keeps
    its grid (an import never retires grids, so that grid is still there). The result is handed
    to the layer version as an explicit assignment, so the report says exactly what will happen.
    """
    stored = ctx["grids"]
    homes = stored_households(engine)
    plan.moves = pd.DataFrame(columns=["id", "grid_code", "town"])
    plan.assignment = pd.DataFrame(columns=["id", "grid_code"])
    report.counts["moved"] = 0
    if stored.empty or homes.empty:
        return
    changed = set(plan.updates["code"]) if plan.updates is not None else set()
    kept = stored[~stored["code"].isin(changed)]
    layer_codes = list(kept["code"]) + list(plan.updates["code"]) + list(plan.inserts["code"])
    layer_geoms = np.concatenate([kept["geom"].to_numpy(), plan.updates["geom"].to_numpy(),
                                  plan.inserts["geom"].to_numpy()])
    layer_towns = list(kept["town_id"]) + list(plan.updates["town"]) + list(plan.inserts["town"])
    where = locate(homes["lon"].to_numpy(), homes["lat"].to_numpy(), layer_geoms)
    old_code = homes["grid_id"].map(dict(zip(stored["id"], stored["code"], strict=True)))
    codes = np.array(layer_codes, dtype=object)
    new_code = np.where(where >= 0, codes[np.maximum(where, 0)], old_code.to_numpy())
    lost = int((where < 0).sum())
    if lost:
        report.findings.append(Finding("households_outside_layer", "keep", detail={"n": lost}))
    plan.assignment = pd.DataFrame({"id": homes["id"].to_numpy(), "grid_code": new_code})
    idx = np.flatnonzero(new_code != old_code.to_numpy())
    plan.moves = pd.DataFrame({"id": homes["id"].to_numpy()[idx], "grid_code": new_code[idx],
                               "town": np.array(layer_towns, dtype=object)[where[idx]]})
    report.moved = [{"household": c, "from": a, "to": b} for c, a, b in zip(
        homes["code"].to_numpy()[idx], old_code.to_numpy()[idx], new_code[idx], strict=True)]
    report.counts["moved"] = len(idx)


# --- apply ---


def _places(conn, plan: Plan) -> tuple:
    """Insert the new towns and areas; return functions from a plan's references to ids."""
    town_ids: dict[str, int] = {}
    for town in plan.new_towns:
        town_ids[town["key"]] = conn.execute(
            insert(Town).values(code=town["code"], name=town["name"], kind=town["kind"],
                                geom=town["geom"]).returning(Town.id)).scalar_one()

    def town_id(ref) -> int:
        return town_ids[ref[1]] if isinstance(ref, tuple) else int(ref)

    area_ids: dict[tuple, int] = {}
    for area in plan.new_areas:
        area_ids[area["key"]] = conn.execute(
            insert(Area).values(town_id=town_id(area["town"]), name=area["name"], head_name="")
            .returning(Area.id)).scalar_one()

    def area_id(ref) -> int:
        return area_ids[ref[1]] if isinstance(ref, tuple) else int(ref)

    return town_id, area_id


def _write(conn, plan: Plan, actor: str, progress: Progress | None) -> None:
    """A new grid layer version, made current; the first import fills the working tables and
    records them as version 1. All inside :func:`minqing.importer.apply`'s transaction."""
    town_id, area_id = _places(conn, plan)
    reason = f"import {plan.report.source}"
    tick(progress, "grids", 0.3)
    current = conn.scalar(select(GridLayer.id).where(GridLayer.is_current.is_(True)))
    if current is None:
        _write_first(conn, plan, town_id, area_id)
        snapshot_current(conn, actor=actor, source="import", reason=reason,
                         label=plan.report.source[:120])
        return
    stored = pd.DataFrame(conn.execute(select(
        Grid.id, Grid.code, Grid.name, Grid.town_id, Grid.area_id, Grid.kind, Grid.village,
        Grid.geom).where(Grid.active.is_(True))).all(),
        columns=["id", "code", "name", "town_id", "area_id", "kind", "village", "geom"])
    changed = {r.code: r for r in plan.updates.itertuples(index=False)}
    specs = []
    for g in stored.itertuples(index=False):
        r = changed.get(g.code)
        if r is None:
            specs.append(GridSpec(code=g.code, name=g.name, town_id=int(g.town_id),
                                  area_id=int(g.area_id), kind=g.kind, geom=g.geom,
                                  village=g.village or "", grid_id=int(g.id)))
        else:
            specs.append(GridSpec(code=r.code, name=r.name, town_id=town_id(r.town),
                                  area_id=area_id(r.area), kind=r.kind, geom=r.geom,
                                  village=r.village or g.village or "", grid_id=int(g.id)))
    specs += [GridSpec(code=r.code, name=r.name, town_id=town_id(r.town), area_id=area_id(r.area),
                       kind=r.kind, geom=r.geom, village=r.village)
              for r in plan.inserts.itertuples(index=False)]
    assignment = dict(zip(plan.assignment["id"].astype(int), plan.assignment["grid_code"],
                          strict=True)) if plan.assignment is not None else {}
    tick(progress, "households", 0.6)
    store = within(conn)
    layer = create_layer(store, grids=specs, assignment=assignment, actor=actor, reason=reason,
                         label=plan.report.source[:120], source="import")
    publish_layer(store, layer_id=layer.id, actor=actor, reason=reason, expected_current=current)


def _write_first(conn, plan: Plan, town_id, area_id) -> None:
    """The working tables of a store with no layer version yet (an empty store)."""
    if plan.inserts is not None and len(plan.inserts):
        conn.execute(insert(Grid), [
            {"code": r.code, "name": r.name, "town_id": town_id(r.town), "area_id": area_id(r.area),
             "kind": r.kind, "village": r.village, "version": 1, "active": True, "geom": r.geom}
            for r in plan.inserts.itertuples(index=False)])
    if plan.updates is not None and len(plan.updates):
        conn.execute(
            update(Grid).where(Grid.id == bindparam("b_id")).values(
                name=bindparam("b_name"), kind=bindparam("b_kind"), town_id=bindparam("b_town"),
                area_id=bindparam("b_area"), village=bindparam("b_village"),
                geom=bindparam("b_geom", type_=Grid.geom.type), version=Grid.version + 1),
            [{"b_id": int(r.id), "b_name": r.name, "b_kind": r.kind, "b_town": town_id(r.town),
              "b_area": area_id(r.area), "b_village": r.village, "b_geom": r.geom}
             for r in plan.updates.itertuples(index=False)])
    if plan.moves is not None and len(plan.moves):
        codes = dict(conn.execute(select(Grid.code, Grid.id).where(Grid.active.is_(True))).all())
        conn.execute(
            update(Household).where(Household.id == bindparam("b_id")).values(
                grid_id=bindparam("b_grid"), town_id=bindparam("b_town")),
            [{"b_id": int(r.id), "b_grid": codes[r.grid_code], "b_town": town_id(r.town)}
             for r in plan.moves.itertuples(index=False)])
