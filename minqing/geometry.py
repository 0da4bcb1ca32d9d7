"""A geometry column that is native PostGIS on PostgreSQL and WKB bytes on SQLite.

Code above the store only ever sees shapely geometries. On PostgreSQL the value travels as hex
EWKB text, which PostGIS parses and prints natively, so no SpatiaLite or GeoAlchemy layer is needed
and both backends share one code path.
"""

from __future__ import annotations

import shapely
from sqlalchemy.types import LargeBinary, TypeDecorator, UserDefinedType

SRID = 4326


class _PostGISGeometry(UserDefinedType):
    cache_ok = True

    def __init__(self, geometry_type: str, srid: int) -> None:
        self.geometry_type = geometry_type
        self.srid = srid

    def get_col_spec(self, **_kw) -> str:
        return f"geometry({self.geometry_type},{self.srid})"


class Geometry(TypeDecorator):
    """A shapely geometry stored as PostGIS ``geometry`` or as SQLite WKB."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = SRID) -> None:
        super().__init__()
        self.geometry_type = geometry_type.upper()
        self.srid = srid

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostGISGeometry(self.geometry_type, self.srid))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "postgresql":
            return shapely.to_wkb(shapely.set_srid(value, self.srid), hex=True, include_srid=True)
        return shapely.to_wkb(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return shapely.from_wkb(value)

    def __repr__(self) -> str:
        return f"Geometry({self.geometry_type!r}, srid={self.srid})"

    def copy(self, **_kw):
        return Geometry(self.geometry_type, self.srid)
