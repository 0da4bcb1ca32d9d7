"""Bulk writes at driver speed, shared by the demo generator and the importer.

Per-row work in SQLAlchemy's parameter processing costs more than the data themselves at
100,000 rows, so rows go to the driver directly as plain tuples: ``executemany`` on SQLite,
``COPY`` on PostgreSQL. Geometries are encoded in one shapely call per table to exactly what
:class:`minqing.geometry.Geometry` writes (WKB on SQLite, hex EWKB with SRID 4326 on PostGIS).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from sqlalchemy import Connection, text

from minqing.geometry import SRID

__all__ = ["BATCH", "encode_geometries", "insert_rows"]

BATCH = 50_000


def encode_geometries(conn: Connection, geoms: np.ndarray) -> list:
    """Vectorised WKB for SQLite, hex EWKB with the SRID for PostGIS."""
    if conn.dialect.name == "postgresql":
        return shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=True, include_srid=True).tolist()
    return shapely.to_wkb(geoms).tolist()


_SECONDARY_INDEXES = {
    # (name, CREATE statement) of the plain indexes of a table; those behind primary keys and
    # unique constraints stay, since dropping them would drop the constraint
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
              "AND sql IS NOT NULL ORDER BY name",
    "postgresql": "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                  "WHERE i.schemaname = current_schema() AND i.tablename = :t AND NOT EXISTS "
                  "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname) "
                  "ORDER BY i.indexname",
}


def insert_rows(conn: Connection, model, columns: Sequence[str], rows: list[tuple]) -> None:
    """Write ``rows`` (tuples in ``columns`` order) with the driver's fastest bulk path.

    Big tables are written without their secondary indexes, which are rebuilt afterwards: one
    sorted build per index is several times faster than 100,000 B-tree insertions.
    """
    name = model.__table__.name
    indexes = []
    if len(rows) >= 10_000:
        indexes = conn.execute(text(_SECONDARY_INDEXES[conn.dialect.name]), {"t": name}).all()
    for index_name, _ in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{index_name}"')
    cols = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        sql = f"INSERT INTO {name} ({cols}) VALUES ({', '.join('?' * len(columns))})"
        for start in range(0, len(rows), BATCH):
            conn.exec_driver_sql(sql, rows[start : start + BATCH])
    for _, create in indexes:
        conn.exec_driver_sql(create)
