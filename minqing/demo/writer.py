"""Writing the generated district: plain tuples, big driver-level batches, one transaction.

Per-row work in SQLAlchemy's parameter processing cost more than the whole generation, so the
rows go to the driver directly: ``executemany`` on SQLite, ``COPY`` on PostgreSQL. Values are
prepared for both in one form, vectorised: dates and timestamps as the strings SQLAlchemy's own
SQLite types store (PostgreSQL parses the same strings), geometries encoded in one shapely call
per table to exactly what :class:`minqing.geometry.Geometry` writes (WKB on SQLite, hex EWKB with
SRID 4326 on PostGIS).

Primary keys are assigned here (1..n in generation order), so foreign keys need no round trip;
on PostgreSQL the id sequences are moved past them so that the app's own inserts do not collide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import shapely
from sqlalchemy import Connection, func, select, text

from minqing import models as m
from minqing.bulk import encode_geometries as _encode
from minqing.bulk import insert_rows as _insert
from minqing.demo.cases import Cases
from minqing.demo.geography import GridPlan, TownPlan
from minqing.demo.groups import Cadres, Groups
from minqing.demo.people import Households, Members
from minqing.demo.records import Diary
from minqing.demo.supervision import History
from minqing.layers import snapshot_current


def has_district(conn: Connection) -> bool:
    """True when the database already holds towns (a demo or a real district)."""
    return conn.scalar(select(func.count()).select_from(m.Town)) > 0


def clear(conn: Connection) -> None:
    """Delete every table's rows, children first.

    On PostgreSQL one TRUNCATE of all tables: row-by-row deletes re-check every foreign key and
    took minutes at full scale. Both are transactional, so a failed rebuild restores the old rows.
    """
    tables = [t.name for t in reversed(m.Base.metadata.sorted_tables)
              if t.name not in m.DEPLOYMENT_TABLES]  # accounts, audit, calendar stay
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
        return
    for name in tables:
        conn.exec_driver_sql(f"DELETE FROM {name}")


def _days(values: np.ndarray) -> list[str | None]:
    """datetime64[D] -> 'YYYY-MM-DD' (NaT -> None)."""
    out = np.datetime_as_string(values.astype("datetime64[D]"), unit="D").astype(object)
    out[np.isnat(values)] = None
    return out.tolist()


def _iso(values: list[dt.date | None]) -> list[str | None]:
    return [None if v is None else v.isoformat() for v in values]


def _stamps(days: np.ndarray, minutes: np.ndarray) -> list[str]:
    """Day + minutes -> 'YYYY-MM-DD HH:MM:SS.000000', SQLAlchemy's SQLite DateTime format."""
    at = days.astype("datetime64[m]") + minutes.astype("timedelta64[m]")
    iso = np.char.replace(np.datetime_as_string(at, unit="s"), "T", " ")
    return np.char.add(iso, ".000000").tolist()


def _ids(values: Iterable, none_below: int | None = None) -> list[int | None]:
    """0-based array indices -> 1-based ids; negative (or None) -> None when allowed."""
    if none_below is None:
        return (np.asarray(values, dtype=np.int64) + 1).tolist()
    return [None if v is None or v < 0 else int(v) + 1 for v in values]


def write(conn: Connection, *, towns: list[TownPlan], grids: GridPlan, hh: Households,
          members: Members, cadres: Cadres, groups: Groups, diary: Diary, cases: Cases,
          services: dict, info: dict[str, str],
          area_heads: list[str], history: History | None = None) -> None:
    """Insert every table, parents first."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MB: index pages stay in memory
    _write_places(conn, towns, grids, area_heads)
    _write_households(conn, grids, hh, members)
    _write_groups(conn, cadres, groups)
    _write_diary(conn, grids, diary)
    _write_cases(conn, grids, diary, cases, history)
    _write_events(conn, cases.events)
    if history is not None:
        _write_history(conn, history)
    _insert(conn, m.HouseholdService, ("id", "household_id", "cadre_id", "done_on", "description"),
            list(zip(_ids(range(len(services["household"]))), _ids(services["household"]),
                     _ids(services["cadre"]), _days(services["done_on"]), services["description"],
                     strict=True)))
    _insert(conn, m.DatasetInfo, ("key", "value"), list(info.items()))
    as_of = dt.datetime.fromisoformat(info["as_of"])
    snapshot_current(conn, actor="demo", source="initial", at=as_of)  # grid layer version 1


def _write_places(conn: Connection, towns: list[TownPlan], grids: GridPlan,
                  area_heads: list[str]) -> None:
    geoms = _encode(conn, np.array([t.geom for t in towns], dtype=object))
    _insert(conn, m.Town, ("id", "code", "name", "kind", "geom"), [
        (i + 1, t.code, t.name, t.kind, g) for i, (t, g) in enumerate(zip(towns, geoms, strict=True))
    ])
    _insert(conn, m.Area, ("id", "town_id", "name", "head_name"), [
        (i + 1, t + 1, name, head)
        for i, ((t, name), head) in enumerate(zip(grids.area_names, area_heads, strict=True))
    ])
    n = len(grids.code)
    _insert(conn, m.Grid,
            ("id", "code", "name", "town_id", "area_id", "kind", "version", "village", "geom"),
            list(zip(_ids(range(n)), grids.code, grids.name, _ids(grids.town), _ids(grids.area),
                     grids.kind.tolist(), [1] * n, grids.village, _encode(conn, grids.geom),
                     strict=True)))


def _write_households(conn: Connection, grids: GridPlan, hh: Households, members: Members) -> None:
    n = len(hh.grid)
    seq = np.arange(n) - np.searchsorted(hh.grid, hh.grid) + 1
    codes = np.char.add(np.array(grids.code)[hh.grid], np.char.zfill(seq.astype(str), 4))
    _insert(conn, m.Household,
            ("id", "code", "grid_id", "town_id", "head_name", "phone", "id_number", "address",
             "size", "tags", "lon", "lat", "geom"),
            list(zip(_ids(range(n)), codes.tolist(), _ids(hh.grid), _ids(grids.town[hh.grid]),
                     hh.head_name.tolist(), hh.phone.tolist(), hh.id_number.tolist(), hh.address,
                     hh.size.tolist(), hh.tags, hh.lon.tolist(), hh.lat.tolist(),
                     _encode(conn, shapely.points(hh.lon, hh.lat)), strict=True)))
    _insert(conn, m.HouseholdMember, ("id", "household_id", "name", "relation", "birth_year"),
            list(zip(_ids(range(len(members.household))), _ids(members.household),
                     members.name.tolist(), members.relation.tolist(),
                     members.birth_year.tolist(), strict=True)))


def _write_groups(conn: Connection, cadres: Cadres, groups: Groups) -> None:
    _insert(conn, m.Cadre, ("id", "name", "phone", "level", "town_id", "unit"),
            list(zip(_ids(range(len(cadres.name))), cadres.name, cadres.phone, cadres.level,
                     _ids(cadres.town, none_below=0), cadres.unit, strict=True)))
    n = len(groups.lon)
    _insert(conn, m.ServiceGroup, ("id", "grid_id", "leader_cadre_id", "lon", "lat"),
            list(zip(_ids(range(n)), _ids(range(n)), _ids(cadres.grid_leader),
                     groups.lon.tolist(), groups.lat.tolist(), strict=True)))
    _insert(conn, m.GroupMember,
            ("id", "group_id", "role", "name", "phone", "cadre_id", "household_id"),
            list(zip(_ids(range(len(groups.m_group))), _ids(groups.m_group), groups.m_role,
                     groups.m_name, groups.m_phone, _ids(groups.m_cadre, none_below=0),
                     _ids(groups.m_household, none_below=0), strict=True)))
    _insert(conn, m.Pairing, ("id", "cadre_id", "member_id", "level"),
            list(zip(_ids(range(len(groups.p_cadre))), _ids(groups.p_cadre),
                     _ids(groups.p_member), groups.p_level, strict=True)))


def _write_diary(conn: Connection, grids: GridPlan, d: Diary) -> None:
    def optional(a: np.ndarray) -> list[int | None]:
        return [None if v < 0 else v for v in a.tolist()]

    _insert(conn, m.DiaryEntry,
            ("id", "grid_id", "town_id", "cadre_id", "household_id", "entry_date", "kind",
             "source", "text", "risk_level", "people_received", "opinions_taken", "created_at"),
            list(zip(_ids(range(len(d.grid))), _ids(d.grid), _ids(grids.town[d.grid]),
                     _ids(d.cadre), _ids(d.household, none_below=0), _days(d.date),
                     d.kind.tolist(), d.source.tolist(), d.text, d.risk_level.tolist(),
                     optional(d.received), optional(d.opinions), _stamps(d.date, d.minute),
                     strict=True)))


def _write_cases(conn: Connection, grids: GridPlan, d: Diary, c: Cases,
                 history: History | None) -> None:
    grid = d.grid[c.entry]
    n = len(c.entry)
    rectify = history.rectify_by if history is not None else {}
    _insert(conn, m.Case,
            ("id", "code", "grid_id", "town_id", "diary_entry_id", "household_id", "title",
             "track", "status", "opened_on", "deadline", "responsible", "department",
             "letter_no", "letter_reply", "explanation", "leader", "green_channel", "is_risk",
             "satisfaction", "feedback", "result", "closed_on", "rectify_by", "version"),
            list(zip(_ids(range(n)), c.code, _ids(grid), _ids(grids.town[grid]), _ids(c.entry),
                     _ids(d.household[c.entry], none_below=0), c.title, c.track.tolist(),
                     c.status, _days(c.opened), _iso(c.deadline), c.responsible, c.department,
                     c.letter_no, c.letter_reply, c.explanation, c.leader, c.green.tolist(),
                     (d.kind[c.entry] == "risk").tolist(), c.satisfaction, c.feedback, c.result,
                     _iso(c.closed), _iso([rectify.get(i) for i in range(n)]), [1] * n,
                     strict=True)))


def _write_events(conn: Connection, events: list[tuple]) -> None:
    case, day, minute, actor, action, src, dst, comment, data = zip(*events, strict=True)
    stamps = _stamps(np.array(day, dtype="datetime64[D]"), np.array(minute))
    _insert(conn, m.CaseEvent,
            ("id", "case_id", "at", "actor", "action", "from_status", "to_status", "comment",
             "data"),
            list(zip(_ids(range(len(events))), _ids(case), stamps, actor, action, src, dst,
                     comment, data, strict=True)))


def _stamp(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.000000")


def _write_history(conn: Connection, h: History) -> None:
    """The supervision history (:mod:`minqing.demo.supervision`): reviews, meetings and their
    items, verifications."""
    _insert(conn, m.DiaryReview, ("id", "entry_id", "town_id", "grid_id", "reviewer", "outcome",
                                  "comment", "reviewed_on", "reviewed_at"),
            [(k + 1, *r[:6], r[6].isoformat(), _stamp(r[7])) for k, r in enumerate(h.reviews)])
    _insert(conn, m.Meeting, ("id", "kind", "town_id", "area_id", "held_on", "chair",
                              "attendees", "created_by", "created_at"),
            [(*r[:4], r[4].isoformat(), *r[5:8], _stamp(r[8])) for r in h.meetings])
    _insert(conn, m.MeetingItem, ("id", "meeting_id", "case_id", "reasons", "decision",
                                  "event_id", "last_event_id", "rectify_by", "decided_by"),
            [(k + 1, *r[:5], r[4], r[5].isoformat() if r[5] else None, r[6])
             for k, r in enumerate(h.items)])
    _insert(conn, m.Verification, ("id", "case_id", "town_id", "grid_id", "quarter", "verified",
                                   "verifier", "note", "at"),
            [(k + 1, *r[:7], _stamp(r[7])) for k, r in enumerate(h.verifications)])


def finish(conn: Connection) -> None:
    """Move PostgreSQL id sequences past the explicit ids; refresh the planner's statistics."""
    if conn.dialect.name == "postgresql":
        for tbl in m.Base.metadata.sorted_tables:
            if "id" in tbl.c and tbl.c.id.primary_key:
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{tbl.name}', 'id'), "
                    f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {tbl.name}"
                ))
    conn.execute(text("ANALYZE"))
