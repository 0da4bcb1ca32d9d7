"""diary entries gain an idempotency key: a form submission repeated over a weak network writes
one entry, not two

Revision ID: 0007_entry_key
Revises: 0006_accounts
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_entry_key"
down_revision = "0006_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a nullable column and a unique index: no table copy on SQLite, and imported or older
    # entries (NULL) never collide
    op.add_column("diary_entries", sa.Column("entry_key", sa.String(length=64), nullable=True))
    op.create_index("ux_diary_entries_entry_key", "diary_entries", ["entry_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_diary_entries_entry_key", table_name="diary_entries")
    op.drop_column("diary_entries", "entry_key")
