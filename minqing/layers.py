"""Versioned grid layers: the store's one way to change which grids exist and which household
belongs to which grid.

The model
---------
A *layer version* (:class:`~minqing.models.GridLayer`) is a set of grids (each with its geometry
and attributes at that version, :class:`~minqing.models.LayerGrid`) and an assignment of every
household to one of them (:class:`~minqing.models.LayerHousehold`). Exactly one version is
current. The working tables always mirror the current version, so every other query keeps
reading them as before:

- ``grids``: one row per grid *identity*, ever. A grid of the current version has
  ``active = True`` and carries that version's code, name, geometry...; a grid merged away, or
  created by a version not yet published, keeps its row with ``active = False`` (so history that
  names it stays attached) and is left out by :meth:`minqing.scope.Scope.where`.
- ``households.grid_id`` / ``town_id``: the household's grid in the current version.
- ``diary_entries`` / ``cases``: ``grid_id`` / ``town_id`` are the *current* grid (the
  household's grid now, or for an entry with no household the grid that took over its area), so
  they are counted under the current grid; ``recorded_grid_id`` keeps the grid they were recorded
  in once a publish moved them (NULL means "recorded in ``grid_id``").

Creating versions (for the planner and for imports)
---------------------------------------------------
1. :func:`create_layer` writes a new version from a list of :class:`GridSpec` and an optional
   ``{household_id: grid code}`` assignment; households left out are assigned by location (the
   grid whose polygon contains them, else the nearest grid of their town). Grids are matched to
   existing identities by ``grid_id`` or by code; other codes make new (inactive) grid rows. The
   version is not current yet; the returned :class:`LayerInfo` maps codes to grid ids.
2. :func:`publish_layer` makes it current (an audited event: who, when, why); with
   ``expected_current`` it refuses when someone else published meanwhile.
3. :func:`restore_layer` makes an older version current again (audited as "restore");
   :func:`restore_town` brings back one town of an older version as a new version, every other
   town staying as it is (audited as "restore" too).
4. On every publish and restore the service groups follow (:mod:`minqing.group_sync`).

:func:`snapshot_current` records what is in the working tables as a version (the demo generator
and a first import into an empty store use it). :func:`list_layers`, :func:`current_layer`,
:func:`layer_grids`, :func:`layer_assignment` and :func:`layer_events` read them back.

Every function takes an ``actor`` as typed text (who acted) until accounts exist.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from minqing import clock, group_sync
from minqing.errors import ConflictError, InputError, NotFoundError
from minqing.models import (
    Case,
    DiaryEntry,
    Grid,
    GridLayer,
    Household,
    LayerEvent,
    LayerGrid,
    LayerHousehold,
)
from minqing.scope import Scope

SOURCES = ("initial", "import", "plan", "restore")
_BATCH = 20_000


@dataclass(frozen=True)
class GridSpec:
    """One grid of a new layer version.

    ``grid_id`` keeps an existing grid's identity (its history, service group and diaries follow
    it); without it the grid is matched by ``code``, and an unknown code makes a new grid.
    """

    code: str
    name: str
    town_id: int
    area_id: int
    kind: str  # "rural" / "urban"
    geom: object  # shapely Polygon, EPSG:4326
    village: str = ""
    grid_id: int | None = None


@dataclass(frozen=True)
class LayerInfo:
    """A layer version's header; ``grid_ids`` maps each of its grid codes to the grid id."""

    id: int
    number: int
    label: str
    source: str
    parent_id: int | None
    created_at: dt.datetime
    created_by: str
    reason: str
    is_current: bool
    grids: int
    households: int
    grid_ids: dict[str, int] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PublishResult:
    """What a publish or restore changed in the working tables."""

    layer: LayerInfo
    previous_id: int | None
    households_moved: int
    entries_moved: int
    cases_moved: int
    grids_retired: list[int]
    grids_added: list[int]
    groups: dict = field(default_factory=dict)  # what the service groups did (group_sync)


# --- reading -----------------------------------------------------------------------------------


def _info(row, grid_ids: dict[str, int] | None = None) -> LayerInfo:
    return LayerInfo(id=row.id, number=row.number, label=row.label, source=row.source,
                     parent_id=row.parent_id, created_at=row.created_at,
                     created_by=row.created_by, reason=row.reason,
                     is_current=bool(row.is_current), grids=row.grids,
                     households=row.households, grid_ids=grid_ids or {})


def list_layers(engine: Engine) -> list[LayerInfo]:
    """Every layer version, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(select(GridLayer).order_by(GridLayer.number.desc())).all()
    return [_info(r) for r in rows]


def current_layer(engine: Engine) -> LayerInfo | None:
    """The current version, or None before any district is loaded."""
    with engine.connect() as conn:
        row = conn.execute(select(GridLayer).where(GridLayer.is_current.is_(True))).first()
    return _info(row) if row else None


def get_layer(engine: Engine, layer_id: int) -> LayerInfo:
    with engine.connect() as conn:
        return _get(conn, layer_id)


def _get(conn: Connection, layer_id: int) -> LayerInfo:
    row = conn.execute(select(GridLayer).where(GridLayer.id == layer_id)).first()
    if row is None:
        raise NotFoundError("layers.error.not_found", number=layer_id)
    codes = dict(conn.execute(select(LayerGrid.code, LayerGrid.grid_id)
                              .where(LayerGrid.layer_id == layer_id)).all())
    return _info(row, codes)


def layer_grids(engine: Engine, *, layer_id: int, scope: Scope) -> pd.DataFrame:
    """The grids of one version in ``scope``'s towns: grid_id, code, name, town_id, area_id,
    kind, village, households, geom (shapely, EPSG:4326)."""
    cols = ["grid_id", "code", "name", "town_id", "area_id", "kind", "village", "households",
            "geom"]
    stmt = select(*(getattr(LayerGrid, c) for c in cols)).where(LayerGrid.layer_id == layer_id)
    town = _scope_town(engine, scope)
    if town is not None:
        stmt = stmt.where(LayerGrid.town_id == town)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(LayerGrid.code)).all()
    return pd.DataFrame(rows, columns=cols)


def layer_assignment(engine: Engine, *, layer_id: int, scope: Scope) -> pd.DataFrame:
    """household_id -> grid_id in one version, for the households in ``scope``'s towns."""
    stmt = (select(LayerHousehold.household_id, LayerHousehold.grid_id)
            .where(LayerHousehold.layer_id == layer_id))
    town = _scope_town(engine, scope)
    if town is not None:
        stmt = stmt.join(Household, Household.id == LayerHousehold.household_id).where(
            Household.town_id == town)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(LayerHousehold.household_id)).all()
    return pd.DataFrame(rows, columns=["household_id", "grid_id"])


def layer_events(engine: Engine, *, layer_id: int | None = None) -> pd.DataFrame:
    """The audit trail of layer versions (create, publish, restore), newest first."""
    stmt = (select(LayerEvent.at, GridLayer.number, LayerEvent.action, LayerEvent.actor,
                   LayerEvent.reason, LayerEvent.data)
            .join(GridLayer, GridLayer.id == LayerEvent.layer_id)
            .order_by(LayerEvent.at.desc(), LayerEvent.id.desc()))
    if layer_id is not None:
        stmt = stmt.where(LayerEvent.layer_id == layer_id)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=["at", "number", "action", "actor", "reason", "data"])


def _scope_town(engine: Engine, scope: Scope) -> int | None:
    """Layer versions are read whole towns at a time: the town of a narrower scope."""
    if scope.level == "district":
        return None
    if scope.level == "town":
        return scope.id
    from minqing.models import Town

    with engine.connect() as conn:
        return conn.scalar(select(Town.id).where(scope.where(Town)))


# --- writing -----------------------------------------------------------------------------------


def record_event(conn: Connection, layer_id: int, actor: str, action: str, reason: str,
                 data: dict | None = None, at: dt.datetime | None = None) -> None:
    """Append an audited act to a layer version's trail (inside the caller's transaction)."""
    conn.execute(insert(LayerEvent).values(
        layer_id=layer_id, at=at or clock.now(), actor=actor, action=action, reason=reason,
        data=json.dumps(data or {}, ensure_ascii=False, sort_keys=True)))


def _check_actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise InputError("layers.error.actor", field="actor")
    return actor[:64]


def snapshot_current(conn: Connection, *, actor: str = "system", source: str = "initial",
                     reason: str = "", label: str = "", at: dt.datetime | None = None) -> int:
    """Record the working tables (active grids, households' grids) as a new current version.

    For a store filled directly (the demo generator, a first import into an empty store): no
    record is moved. ``at`` stamps the version and its events (default now; the demo passes its
    as-of day so that the same seed gives the same store). Returns the new version's id.
    """
    grids = conn.execute(select(Grid.id, Grid.code, Grid.name, Grid.town_id, Grid.area_id,
                                Grid.kind, Grid.village, Grid.geom)
                         .where(Grid.active.is_(True))).all()
    homes = conn.execute(select(Household.id, Household.grid_id)).all()
    counts = Counter(g for _, g in homes)
    previous = conn.scalar(select(GridLayer.id).where(GridLayer.is_current.is_(True)))
    layer_id = _new_layer(conn, source=source, actor=actor, reason=reason, label=label,
                          parent_id=previous, grids=len(grids), households=len(homes),
                          current=True, at=at)
    _insert_grids(conn, layer_id, [
        {"grid_id": g.id, "code": g.code, "name": g.name, "town_id": g.town_id, "area_id": g.area_id,
             "kind": g.kind, "village": g.village or "", "households": counts.get(g.id, 0), "geom": g.geom}
        for g in grids])
    _insert_assignment(conn, layer_id, [(h, g) for h, g in homes])
    record_event(conn, layer_id, actor, "create", reason,
                 {"grids": len(grids), "households": len(homes)}, at=at)
    record_event(conn, layer_id, actor, "publish", reason, {"previous": previous}, at=at)
    return layer_id


def _new_layer(conn: Connection, *, source: str, actor: str, reason: str, label: str,
               parent_id: int | None, grids: int, households: int, current: bool,
               at: dt.datetime | None = None) -> int:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    number = (conn.scalar(select(func.max(GridLayer.number))) or 0) + 1
    if current:
        conn.execute(update(GridLayer).values(is_current=False))
    return conn.execute(insert(GridLayer).values(
        number=number, label=label[:120], source=source, parent_id=parent_id,
        created_at=at or clock.now(), created_by=actor, reason=reason, is_current=current,
        grids=grids, households=households).returning(GridLayer.id)).scalar_one()


def _insert_grids(conn: Connection, layer_id: int, rows: list[dict]) -> None:
    for row in rows:
        row["layer_id"] = layer_id
    for start in range(0, len(rows), _BATCH):
        conn.execute(insert(LayerGrid), rows[start:start + _BATCH])


def _insert_assignment(conn: Connection, layer_id: int, pairs: list[tuple[int, int]]) -> None:
    rows = [{"layer_id": layer_id, "household_id": h, "grid_id": g} for h, g in pairs]
    for start in range(0, len(rows), _BATCH):
        conn.execute(insert(LayerHousehold), rows[start:start + _BATCH])


def create_layer(engine: Engine, *, grids: Iterable[GridSpec],
                 assignment: Mapping[int, str] | None = None, actor: str, reason: str = "",
                 label: str = "", source: str = "plan", parent_id: int | None = None,
                 town_ids: Iterable[int] | None = None) -> LayerInfo:
    """Write a new layer version (not yet current) and return it.

    Parameters
    ----------
    grids : the grids of the new version. With ``town_ids``, only the grids of those towns: the
        other towns' grids and households are carried over from the current version unchanged
        (a town's rebalance, or an import of one town's grid file).
    assignment : ``{household_id: grid code}``; households left out (or all, when None) are
        assigned by location: the grid containing their point, else the nearest of their town.
    actor, reason, label : who made it and why (typed text until accounts exist); a short name.
    source : "plan" (the planner) or "import".
    parent_id : the version it was derived from (default: the current one).

    Raises
    ------
    InputError : a code twice, an unknown code in ``assignment``, a geometry that is not a valid
        polygon, or a town with households but no grid.
    """
    actor = _check_actor(actor)
    specs = list(grids)
    towns = None if town_ids is None else {int(t) for t in town_ids}
    _validate_specs(specs, towns)
    with engine.begin() as conn:
        current = conn.scalar(select(GridLayer.id).where(GridLayer.is_current.is_(True)))
        parent_id = parent_id if parent_id is not None else current
        ids = _grid_identities(conn, specs)
        homes = pd.DataFrame(conn.execute(select(Household.id, Household.town_id, Household.lon,
                                                 Household.lat, Household.grid_id)).all(),
                             columns=["id", "town_id", "lon", "lat", "grid_id"])
        rows = [{"grid_id": ids[s.code], "code": s.code, "name": s.name, "town_id": s.town_id,
                     "area_id": s.area_id, "kind": s.kind, "village": s.village, "geom": s.geom}
                for s in specs]
        if towns is not None:
            if current is None:
                raise InputError("layers.error.no_current", field="town_ids")
            kept = conn.execute(select(LayerGrid).where(LayerGrid.layer_id == current,
                                                         LayerGrid.town_id.not_in(towns))).all()
            rows += [{"grid_id": g.grid_id, "code": g.code, "name": g.name, "town_id": g.town_id,
                          "area_id": g.area_id, "kind": g.kind, "village": g.village, "geom": g.geom}
                     for g in kept]
            _no_code_clash(rows)
        code_to_id = {r["code"]: r["grid_id"] for r in rows}
        target = _assign(homes, rows, assignment or {}, code_to_id,
                         keep_outside=towns)
        counts = Counter(target.tolist())
        for r in rows:
            r["households"] = counts.get(r["grid_id"], 0)
        layer_id = _new_layer(conn, source=source, actor=actor, reason=reason, label=label,
                              parent_id=parent_id, grids=len(rows), households=len(homes),
                              current=False)
        _insert_grids(conn, layer_id, rows)
        _insert_assignment(conn, layer_id, list(zip(homes["id"].tolist(), target.tolist(),
                                                    strict=True)))
        record_event(conn, layer_id, actor, "create", reason,
               {"grids": len(rows), "households": len(homes), "parent": parent_id,
                "towns": sorted(towns) if towns is not None else None})
        return _get(conn, layer_id)


def _validate_specs(specs: list[GridSpec], towns: set[int] | None) -> None:
    seen: set[str] = set()
    for i, s in enumerate(specs):
        if not s.code or s.code in seen:
            raise InputError("layers.error.code", field=f"grids[{i}].code", code=s.code)
        seen.add(s.code)
        geom = s.geom
        if geom is None or geom.geom_type != "Polygon" or geom.is_empty or not geom.is_valid:
            raise InputError("layers.error.geom", field=f"grids[{i}].geom", code=s.code)
        if towns is not None and s.town_id not in towns:
            raise InputError("layers.error.town", field=f"grids[{i}].town_id", code=s.code)


def _no_code_clash(rows: list[dict]) -> None:
    codes = Counter(r["code"] for r in rows)
    ids = Counter(r["grid_id"] for r in rows)
    for r in rows:
        if codes[r["code"]] > 1 or ids[r["grid_id"]] > 1:
            raise InputError("layers.error.code", field="grids", code=r["code"])


def _grid_identities(conn: Connection, specs: list[GridSpec]) -> dict[str, int]:
    """code -> grid id: given ids kept, known codes matched, new grids inserted inactive."""
    by_code = dict(conn.execute(select(Grid.code, Grid.id)).all())
    out: dict[str, int] = {}
    for s in specs:
        if s.grid_id is not None:
            holder = by_code.get(s.code)
            if holder is not None and holder != s.grid_id:
                raise InputError("layers.error.code", field="grids", code=s.code)
            out[s.code] = int(s.grid_id)
        elif s.code in by_code:
            out[s.code] = by_code[s.code]
        else:
            out[s.code] = conn.execute(insert(Grid).values(
                code=s.code, name=s.name, town_id=s.town_id, area_id=s.area_id, kind=s.kind,
                village=s.village, version=0, active=False, geom=s.geom,
            ).returning(Grid.id)).scalar_one()
    if len(set(out.values())) != len(out):
        raise InputError("layers.error.code", field="grids", code="")
    return out


def _assign(homes: pd.DataFrame, rows: list[dict], assignment: Mapping[int, str],
            code_to_id: dict[str, int], keep_outside: set[int] | None) -> np.ndarray:
    """The grid id of every household (in ``homes`` order)."""
    target = np.zeros(len(homes), dtype=np.int64)
    done = np.zeros(len(homes), dtype=bool)
    if keep_outside is not None:  # other towns keep their current grids
        done = ~homes["town_id"].isin(keep_outside).to_numpy()
        target[done] = homes["grid_id"].to_numpy()[done]
    pos = pd.Index(homes["id"])
    for hid, code in assignment.items():
        if code not in code_to_id:
            raise InputError("layers.error.assignment", field="assignment", code=code,
                             household=hid)
        i = pos.get_indexer([hid])[0]
        if i < 0:
            raise InputError("layers.error.household", field="assignment", household=hid)
        target[i] = code_to_id[code]
        done[i] = True
    todo = np.flatnonzero(~done)
    if len(todo):
        target[todo] = _by_location(homes.iloc[todo], rows)
    return target


def _by_location(homes: pd.DataFrame, rows: list[dict]) -> np.ndarray:
    """The grid containing each household's point; else the nearest grid of its town."""
    polys = np.array([r["geom"] for r in rows], dtype=object)
    gid = np.array([r["grid_id"] for r in rows], dtype=np.int64)
    gtown = np.array([r["town_id"] for r in rows], dtype=np.int64)
    pts = shapely.points(homes["lon"].to_numpy(), homes["lat"].to_numpy())
    tree = shapely.STRtree(polys)
    hit_pt, hit_poly = tree.query(pts, predicate="intersects")
    out = np.full(len(homes), -1, dtype=np.int64)
    out[hit_pt[::-1]] = gid[hit_poly[::-1]]  # the first hit wins on a shared edge
    # a household outside every grid, or inside another town's grid, goes to the nearest grid
    # of its own town
    town = homes["town_id"].to_numpy()
    town_of = dict(zip(gid.tolist(), gtown.tolist(), strict=True))
    for i in range(len(out)):
        if out[i] >= 0 and town_of[int(out[i])] == town[i]:
            continue
        mine = np.flatnonzero(gtown == town[i])
        if not len(mine):
            raise InputError("layers.error.no_grid", field="grids", town=int(town[i]))
        out[i] = gid[mine[np.argmin(shapely.distance(polys[mine], pts[i]))]]
    return out


def publish_layer(engine: Engine, *, layer_id: int, actor: str, reason: str,
                  expected_current: int | None = None, action: str = "publish",
                  detail: dict | None = None) -> PublishResult:
    """Make version ``layer_id`` current: the working tables are rewritten to mirror it.

    Households move to their grid in the version; diary entries and cases follow their household
    (or, without one, the grid that took over their grid's households) and keep the grid they were
    recorded in; grids of the version become active and take its attributes, other grids become
    inactive. One transaction; an audited event records who, when and why.

    ``expected_current``: the version the caller's proposal was built from; if another version
    was published meanwhile, :class:`ConflictError` is raised and nothing changes.
    """
    actor = _check_actor(actor)
    if not (reason or "").strip():
        raise InputError("layers.error.reason", field="reason")
    with engine.begin() as conn:
        layer = _get(conn, layer_id)
        previous = conn.scalar(select(GridLayer.id).where(GridLayer.is_current.is_(True)))
        if expected_current is not None and previous != expected_current:
            raise ConflictError("layers.error.conflict")
        if previous == layer_id:
            raise InputError("layers.error.already_current", field="layer_id",
                             number=layer.number)
        result = _apply(conn, layer_id)
        conn.execute(update(GridLayer).values(is_current=False))
        conn.execute(update(GridLayer).where(GridLayer.id == layer_id).values(is_current=True))
        record_event(conn, layer_id, actor, action, reason.strip(),
                     {"previous": previous, "households_moved": result[0],
                      "entries_moved": result[1], "cases_moved": result[2],
                      "grids_retired": result[3], "grids_added": result[4],
                      "groups": result[5], **(detail or {})})
        layer = _get(conn, layer_id)
    return PublishResult(layer, previous, *result)


def restore_layer(engine: Engine, *, layer_id: int, actor: str, reason: str,
                  expected_current: int | None = None) -> PublishResult:
    """Make an older version current again (audited as "restore")."""
    return publish_layer(engine, layer_id=layer_id, actor=actor, reason=reason,
                         expected_current=expected_current, action="restore")


def restore_town(engine: Engine, *, layer_id: int, town_id: int, actor: str, reason: str,
                 expected_current: int | None = None) -> PublishResult:
    """Bring back one town's grids and assignment from an older version, keeping every other
    town as it is now: a new version (source "restore", derived from the current one) made
    current at once and audited as "restore" with the version and town it came from.

    Households of the town added since that version are assigned by location, as on any
    publish; grids of the town created since then are merged away (their service groups
    dissolve into their heirs', :mod:`minqing.group_sync`).
    """
    actor = _check_actor(actor)
    if not (reason or "").strip():
        raise InputError("layers.error.reason", field="reason")
    source = get_layer(engine, layer_id)
    current = current_layer(engine)
    if current is None:
        raise InputError("layers.error.no_current", field="layer_id")
    if expected_current is not None and current.id != expected_current:
        raise ConflictError("layers.error.conflict")
    with engine.connect() as conn:
        grids = conn.execute(select(LayerGrid).where(LayerGrid.layer_id == layer_id,
                                                     LayerGrid.town_id == town_id)).all()
        assignment = dict(conn.execute(
            select(LayerHousehold.household_id, LayerGrid.code)
            .join(LayerGrid, (LayerGrid.layer_id == LayerHousehold.layer_id)
                  & (LayerGrid.grid_id == LayerHousehold.grid_id))
            .join(Household, Household.id == LayerHousehold.household_id)
            .where(LayerHousehold.layer_id == layer_id, LayerGrid.town_id == town_id,
                   Household.town_id == town_id)).all())
    if not grids:
        raise InputError("layers.error.town_absent", field="town_id", number=source.number)
    specs = [GridSpec(code=g.code, name=g.name, town_id=g.town_id, area_id=g.area_id,
                      kind=g.kind, geom=g.geom, village=g.village or "", grid_id=g.grid_id)
             for g in grids]
    draft = create_layer(engine, grids=specs, assignment=assignment, actor=actor, reason=reason,
                         label=f"← {source.number}", source="restore", parent_id=current.id,
                         town_ids=[town_id])
    try:
        return publish_layer(engine, layer_id=draft.id, actor=actor, reason=reason,
                             expected_current=current.id, action="restore",
                             detail={"restored": source.number, "town": town_id})
    except Exception:
        drop_layer(engine, layer_id=draft.id)
        raise


def _apply(conn: Connection,
           layer_id: int) -> tuple[int, int, int, list[int], list[int], dict]:
    # households added since the version was made: assign them by location, into the version
    homes = pd.DataFrame(conn.execute(select(Household.id, Household.town_id, Household.lon,
                                             Household.lat, Household.grid_id)).all(),
                         columns=["id", "town_id", "lon", "lat", "grid_id"])
    lgrids = conn.execute(select(LayerGrid).where(LayerGrid.layer_id == layer_id)).all()
    rows = [{"grid_id": g.grid_id, "town_id": g.town_id, "geom": g.geom} for g in lgrids]
    assigned = dict(conn.execute(select(LayerHousehold.household_id, LayerHousehold.grid_id)
                                 .where(LayerHousehold.layer_id == layer_id)).all())
    missing = ~homes["id"].isin(assigned.keys()).to_numpy()
    if missing.any():
        extra = _by_location(homes[missing], rows)
        pairs = list(zip(homes.loc[missing, "id"].tolist(), extra.tolist(), strict=True))
        _insert_assignment(conn, layer_id, pairs)
        assigned.update(pairs)
    gtown = {g.grid_id: g.town_id for g in lgrids}
    new = homes["id"].map(assigned).to_numpy(dtype=np.int64)
    old = homes["grid_id"].to_numpy(dtype=np.int64)
    moved = np.flatnonzero(new != old)
    moved_ids = homes["id"].to_numpy()[moved].tolist()
    moved_to = new[moved].tolist()

    # grids: the version's become active with its attributes; the others inactive
    active_before = set(conn.scalars(select(Grid.id).where(Grid.active.is_(True))))
    in_layer = set(gtown)
    retired = sorted(active_before - in_layer)
    added = sorted(in_layer - active_before)
    changed = set(old[moved].tolist()) | set(moved_to)
    conn.execute(update(Grid).where(Grid.id.in_(retired)).values(active=False))
    # codes are parked first, so that a swap of two codes cannot collide; an inactive grid
    # holding a code the version uses gives it up (its old code stays in its layer versions)
    codes = {g.code for g in lgrids}
    for gid, code in conn.execute(select(Grid.id, Grid.code).where(Grid.id.not_in(in_layer))):
        if code in codes:
            conn.execute(update(Grid).where(Grid.id == gid).values(code=f"{code}~{gid}"[:32]))
    for g in lgrids:
        conn.execute(update(Grid).where(Grid.id == g.grid_id).values(code=f"~{g.grid_id}"))
    for g in lgrids:
        values = {"code": g.code, "name": g.name, "town_id": g.town_id, "area_id": g.area_id,
                      "kind": g.kind, "village": g.village, "active": True, "geom": g.geom}
        if g.grid_id in changed or g.grid_id in added:
            values["version"] = Grid.version + 1
        conn.execute(update(Grid).where(Grid.id == g.grid_id).values(**values))

    # households, then their entries and cases (history keeps the grid it was recorded in)
    move_rows = [{"h": h, "g": g, "t": gtown[g]} for h, g in zip(moved_ids, moved_to,
                                                                  strict=True)]
    entries = cases = 0
    if move_rows:
        hh = Household.__table__
        conn.execute(update(hh).where(hh.c.id == bindparam("h")).values(grid_id=bindparam("g"),
                                                                  town_id=bindparam("t")), move_rows)
        for model in (DiaryEntry, Case):
            t = model.__table__
            hit = (t.c.household_id == bindparam("h")) & (t.c.grid_id != bindparam("g"))
            conn.execute(update(t).where(hit, t.c.recorded_grid_id.is_(None))
                         .values(recorded_grid_id=t.c.grid_id), move_rows)
            res = conn.execute(update(t).where(hit).values(grid_id=bindparam("g"), town_id=bindparam("t")),
                               move_rows)
            if model is DiaryEntry:
                entries += max(res.rowcount, 0)
            else:
                cases += max(res.rowcount, 0)

    # entries with no household on a grid that left: to the grid that took most of its homes
    succ = _successors(conn, retired, old, new, lgrids) if retired else {}
    if retired:
        for model in (DiaryEntry, Case):
            t = model.__table__
            for gone, heir in succ.items():
                base = (t.c.grid_id == gone) & t.c.household_id.is_(None)
                conn.execute(update(t).where(base, t.c.recorded_grid_id.is_(None))
                             .values(recorded_grid_id=t.c.grid_id))
                res = conn.execute(update(t).where(base).values(grid_id=heir,
                                                                town_id=gtown[heir]))
                if model is DiaryEntry:
                    entries += max(res.rowcount, 0)
                else:
                    cases += max(res.rowcount, 0)
    came_from = {g: Counter(old[new == g].tolist()).most_common(1)[0][0]
                 for g in added if (new == g).any()}
    groups = group_sync.follow_layer(conn, active=in_layer, retired=retired, added=added,
                                     heirs=succ, came_from=came_from)
    return len(moved_ids), entries, cases, retired, added, groups


def _successors(conn: Connection, retired: list[int], old: np.ndarray, new: np.ndarray,
                lgrids) -> dict[int, int]:
    """For each retired grid, the grid of the version that took most of its households (else
    the grid of its town nearest to it)."""
    geoms = dict(conn.execute(select(Grid.id, Grid.geom).where(Grid.id.in_(retired))).all())
    towns = dict(conn.execute(select(Grid.id, Grid.town_id).where(Grid.id.in_(retired))).all())
    out: dict[int, int] = {}
    for gone in retired:
        took = Counter(new[old == gone].tolist())
        if took:
            out[gone] = took.most_common(1)[0][0]
            continue
        same = [g for g in lgrids if g.town_id == towns[gone]] or list(lgrids)
        here = geoms[gone].representative_point()
        out[gone] = min(same, key=lambda g: g.geom.distance(here)).grid_id
    return out


def drop_layer(engine: Engine, *, layer_id: int) -> None:
    """Delete a version that was never current (an abandoned proposal). Current or once-published
    versions are history and stay."""
    with engine.begin() as conn:
        layer = _get(conn, layer_id)
        published = conn.scalar(select(func.count()).select_from(LayerEvent).where(
            LayerEvent.layer_id == layer_id, LayerEvent.action.in_(("publish", "restore"))))
        if layer.is_current or published:
            raise InputError("layers.error.published", field="layer_id", number=layer.number)
        conn.execute(delete(LayerHousehold).where(LayerHousehold.layer_id == layer_id))
        conn.execute(delete(LayerGrid).where(LayerGrid.layer_id == layer_id))
        conn.execute(delete(LayerEvent).where(LayerEvent.layer_id == layer_id))
        conn.execute(delete(GridLayer).where(GridLayer.id == layer_id))
        # grids this proposal created and no other version holds
        held = select(LayerGrid.grid_id)
        conn.execute(delete(Grid).where(Grid.version == 0, Grid.active.is_(False),
                                        Grid.id.not_in(held)))
