"""case events gain an idempotency key: a case update repeated over a weak network (a double tap,
a resend after a reconnect) appends one event, not two

Revision ID: 0009_event_key
Revises: 0008_kpi_index
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_event_key"
down_revision = "0008_kpi_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # as in 0007: a nullable column and a unique index (no table copy on SQLite, and the
    # history written before, NULL, never collides)
    op.add_column("case_events", sa.Column("event_key", sa.String(length=64), nullable=True))
    op.create_index("ux_case_events_event_key", "case_events", ["event_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_case_events_event_key", table_name="case_events")
    op.drop_column("case_events", "event_key")
