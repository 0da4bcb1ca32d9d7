"""supervision: diary reviews, meetings and their items, verifications, scoring; case rectify_by

Revision ID: 0004_supervision
Revises: 0005_grid_layers
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_supervision"
down_revision = "0005_grid_layers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rectify_by", sa.Date(), nullable=True))
    op.create_index("ix_case_events_action_case", "case_events", ["action", "case_id"])
    op.create_table(
        "diary_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("diary_entries.id"), nullable=False),
        sa.Column("town_id", sa.Integer(), sa.ForeignKey("towns.id"), nullable=False),
        sa.Column("grid_id", sa.Integer(), sa.ForeignKey("grids.id"), nullable=False),
        sa.Column("reviewer", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_diary_reviews_entry_at", "diary_reviews", ["entry_id", "reviewed_at"])
    op.create_index("ix_diary_reviews_town_id", "diary_reviews", ["town_id"])
    op.create_index("ix_diary_reviews_grid_id", "diary_reviews", ["grid_id"])
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("town_id", sa.Integer(), sa.ForeignKey("towns.id"), nullable=False),
        sa.Column("area_id", sa.Integer(), sa.ForeignKey("areas.id"), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("chair", sa.String(64), nullable=False),
        sa.Column("attendees", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_meetings_town_kind_held", "meetings", ["town_id", "kind", "held_on"])
    op.create_index("ix_meetings_area_id", "meetings", ["area_id"])
    op.create_table(
        "meeting_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("meeting_id", sa.Integer(), sa.ForeignKey("meetings.id"), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("reasons", sa.String(128), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("case_events.id"), nullable=True),
        sa.Column("last_event_id", sa.Integer(), nullable=True),
        sa.Column("rectify_by", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.UniqueConstraint("meeting_id", "case_id"),
    )
    op.create_index("ix_meeting_items_case_id", "meeting_items", ["case_id"])
    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("town_id", sa.Integer(), sa.ForeignKey("towns.id"), nullable=False),
        sa.Column("grid_id", sa.Integer(), sa.ForeignKey("grids.id"), nullable=False),
        sa.Column("quarter", sa.String(7), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verifier", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("case_id", "quarter"),
    )
    op.create_index("ix_verifications_town_quarter", "verifications", ["town_id", "quarter"])
    op.create_table(
        "scoring_rules",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("weights", sa.Text(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "scores",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("cadre_id", sa.Integer(), sa.ForeignKey("cadres.id"), nullable=False),
        sa.Column("town_id", sa.Integer(), sa.ForeignKey("towns.id"), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("star", sa.Boolean(), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.UniqueConstraint("year", "cadre_id"),
    )
    op.create_index("ix_scores_year", "scores", ["year"])


def downgrade() -> None:
    for table in ("scores", "scoring_rules", "verifications", "meeting_items", "meetings",
                  "diary_reviews"):
        op.drop_table(table)
    op.drop_index("ix_case_events_action_case", table_name="case_events")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("rectify_by")
