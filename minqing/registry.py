"""The registry: towns, areas, grids and households, read within a scope."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, func, inspect, select

from minqing.models import DatasetInfo, Town
from minqing.scope import Scope
from minqing.store import VERSION_KEY


def data_version(engine: Engine) -> str:
    """A fingerprint that changes whenever records are written.

    Cached page results are keyed by it. Every write through :func:`minqing.store.get_engine`
    moves the ``data_version`` counter (see :mod:`minqing.store`); ``built_at`` tells rebuilt
    demo districts apart. One primary-key lookup: well under a millisecond on every rerun.
    """
    with engine.connect() as conn:
        return data_version_of(conn)


def data_version_of(conn: Connection) -> str:
    """:func:`data_version` on an open connection (inside a transaction, for imports)."""
    keys = ("built_at", VERSION_KEY)
    found = dict(conn.execute(select(DatasetInfo.key, DatasetInfo.value)
                              .where(DatasetInfo.key.in_(keys))).all())
    return ":".join(found.get(key, "") for key in keys)


def dataset_info(engine: Engine) -> dict[str, str]:
    """What the store says about itself (``demo``, ``seed``, ``built_at``, the data version)."""
    with engine.connect() as conn:
        return dict(conn.execute(select(DatasetInfo.key, DatasetInfo.value)).all())


def has_schema(engine: Engine) -> bool:
    """True when the store has been created (``minqing db upgrade``): towns and accounts exist."""
    return {"towns", "accounts"} <= set(inspect(engine).get_table_names())


def has_data(engine: Engine) -> bool:
    """True when the schema exists and holds at least one town."""
    if not has_schema(engine):
        return False
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Town)) > 0


def town_choices(engine: Engine, *, scope: Scope) -> list[tuple[int, str]]:
    """(id, name) of the towns in scope, in code order, for pickers."""
    stmt = select(Town.id, Town.name).where(scope.where(Town)).order_by(Town.code)
    with engine.connect() as conn:
        return [(row.id, row.name) for row in conn.execute(stmt)]
