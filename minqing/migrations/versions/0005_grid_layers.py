"""grid layer versions: layers, their grids and household assignments, audit events, bounds

Grids gain ``village`` and ``active`` (in the current layer); diary entries and cases gain
``recorded_grid_id`` (the grid they were recorded in, once a published layer moved them). An
existing district becomes layer version 1, as it stands.

Revision ID: 0005_grid_layers
Revises: 0002
Create Date: 2026-11-27
"""

import datetime as dt
import re

import sqlalchemy as sa
from alembic import op

import minqing.geometry

revision = "0005_grid_layers"
down_revision = "0002"
branch_labels = None
depends_on = None

_GRID_NO = re.compile(r"第[0-9一二三四五六七八九十]+网格$")


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy): SQLite cannot drop a table others point at while foreign
    # keys are on, and adding a nullable column needs no copy on either backend
    op.add_column("grids", sa.Column("village", sa.String(length=64), nullable=False,
                                     server_default=""))
    op.add_column("grids", sa.Column("active", sa.Boolean(), nullable=False,
                                     server_default=sa.true()))
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ("diary_entries", "cases"):
        op.add_column(table, sa.Column("recorded_grid_id", sa.Integer(), nullable=True))
        if postgres:  # SQLite cannot add a constraint to an existing table without a copy
            op.create_foreign_key(f"fk_{table}_recorded_grid", table, "grids",
                                  ["recorded_grid_id"], ["id"])
    op.create_table(
        "grid_layers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("grids", sa.Integer(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["grid_layers.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_table(
        "layer_grids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("village", sa.String(length=64), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("geom", minqing.geometry.Geometry("POLYGON"), nullable=False),
        sa.ForeignKeyConstraint(["layer_id"], ["grid_layers.id"]),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"]),
        sa.ForeignKeyConstraint(["town_id"], ["towns.id"]),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("layer_id", "grid_id"),
    )
    op.create_index("ix_layer_grids_layer_id", "layer_grids", ["layer_id"])
    op.create_index("ix_layer_grids_grid_id", "layer_grids", ["grid_id"])
    op.create_table(
        "layer_households",
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["layer_id"], ["grid_layers.id"]),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"]),
        sa.ForeignKeyConstraint(["grid_id"], ["grids.id"]),
        sa.PrimaryKeyConstraint("layer_id", "household_id"),
    )
    op.create_table(
        "layer_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["layer_id"], ["grid_layers.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_layer_events_layer_id", "layer_events", ["layer_id"])
    op.create_table(
        "planner_bounds",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("low", sa.Integer(), nullable=False),
        sa.Column("high", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    _backfill()


def _backfill() -> None:
    """Village names from grid names ("X村第2网格" -> "X村"); the district as version 1."""
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, name FROM grids")).all()
    if not rows:
        return
    conn.execute(sa.text("UPDATE grids SET village = :v WHERE id = :i"),
                 [{"v": _GRID_NO.sub("", name), "i": gid} for gid, name in rows])
    n_households = conn.execute(sa.text("SELECT COUNT(*) FROM households")).scalar()
    conn.execute(
        sa.text("INSERT INTO grid_layers (id, number, label, source, parent_id, created_at, "
                "created_by, reason, is_current, grids, households) VALUES (1, 1, '', 'initial', "
                "NULL, :at, 'system', '', :t, :g, :h)"),
        {"at": dt.datetime.now().replace(microsecond=0), "t": True, "g": len(rows),
         "h": n_households},
    )
    conn.execute(sa.text(
        "INSERT INTO layer_grids (layer_id, grid_id, code, name, town_id, area_id, kind, village, "
        "households, geom) SELECT 1, g.id, g.code, g.name, g.town_id, g.area_id, g.kind, "
        "g.village, (SELECT COUNT(*) FROM households h WHERE h.grid_id = g.id), g.geom "
        "FROM grids g"))
    conn.execute(sa.text("INSERT INTO layer_households (layer_id, household_id, grid_id) "
                         "SELECT 1, id, grid_id FROM households"))
    conn.execute(
        sa.text("INSERT INTO layer_events (layer_id, at, actor, action, reason, data) "
                "VALUES (1, :at, 'system', 'create', '', '')"),
        {"at": dt.datetime.now().replace(microsecond=0)})
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('grid_layers', 'id'), 1)"))


def downgrade() -> None:
    op.drop_table("planner_bounds")
    op.drop_index("ix_layer_events_layer_id", table_name="layer_events")
    op.drop_table("layer_events")
    op.drop_table("layer_households")
    op.drop_index("ix_layer_grids_grid_id", table_name="layer_grids")
    op.drop_index("ix_layer_grids_layer_id", table_name="layer_grids")
    op.drop_table("layer_grids")
    op.drop_table("grid_layers")
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in ("cases", "diary_entries"):
        if postgres:
            op.drop_constraint(f"fk_{table}_recorded_grid", table, type_="foreignkey")
        op.drop_column(table, "recorded_grid_id")
    op.drop_column("grids", "active")
    op.drop_column("grids", "village")
