"""The registry: towns, areas, grids and households, read within a scope."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, func, select

from minqing.models import CaseEvent, DatasetInfo, DiaryEntry, Grid, Town
from minqing.scope import Scope


def data_version(engine: Engine) -> str:
    """A cheap fingerprint that changes whenever records are written.

    Cached page results are keyed by it; each part is an index lookup, so calling it on every
    rerun costs well under a millisecond.
    """
    with engine.connect() as conn:
        return data_version_of(conn)


def data_version_of(conn: Connection) -> str:
    """:func:`data_version` on an open connection (inside a transaction, for imports)."""
    events = conn.scalar(select(func.max(CaseEvent.id))) or 0
    entries = conn.scalar(select(func.max(DiaryEntry.id))) or 0
    grids = conn.scalar(select(func.sum(Grid.version))) or 0
    stamps = dict(conn.execute(select(DatasetInfo.key, DatasetInfo.value).where(
        DatasetInfo.key.in_(("built_at", "imported_at")))).all())
    built = stamps.get("built_at", "") + stamps.get("imported_at", "")
    return f"{built}:{entries}:{events}:{grids}"


def dataset_info(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(DatasetInfo.key, DatasetInfo.value)).all())


def has_data(engine: Engine) -> bool:
    """True when the schema exists and holds at least one town."""
    from sqlalchemy import inspect

    if "towns" not in inspect(engine).get_table_names():
        return False
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Town)) > 0


def town_choices(engine: Engine, *, scope: Scope) -> list[tuple[int, str]]:
    """(id, name) of the towns in scope, in code order, for pickers."""
    stmt = select(Town.id, Town.name).where(scope.where(Town)).order_by(Town.code)
    with engine.connect() as conn:
        return [(row.id, row.name) for row in conn.execute(stmt)]
