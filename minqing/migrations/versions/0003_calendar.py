"""the working-day calendar as data: covered years and their holidays / make-up working days,
seeded from the chinesecalendar package (State Council notices, 2004 onwards)

Revision ID: 0003_calendar
Revises: 0004_supervision
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_calendar"
down_revision = "0004_supervision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    years = op.create_table(
        "calendar_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    days = op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    from minqing.workcalendar import package_rows

    covered, listed = package_rows()
    op.bulk_insert(years, covered)
    op.bulk_insert(days, listed)


def downgrade() -> None:
    op.drop_table("calendar_days")
    op.drop_table("calendar_years")
