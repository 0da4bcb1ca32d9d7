"""diary entries gain a covering index for the KPI queries: counting by period, grid, cadre,
kind and household reads the index alone instead of the wide entry rows

Revision ID: 0008_kpi_index
Revises: 0007_entry_key
Create Date: 2026-11-27
"""

from alembic import op

revision = "0008_kpi_index"
down_revision = "0007_entry_key"
branch_labels = None
depends_on = None

COLUMNS = ["entry_date", "grid_id", "cadre_id", "kind", "household_id"]


def upgrade() -> None:
    op.create_index("ix_diary_date_kpi", "diary_entries", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_diary_date_kpi", table_name="diary_entries")
