"""Action plans: versions with goals, steps and resources; journal entries; mood
check-ins. Every row goes with its session (ON DELETE CASCADE).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coaching_session_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("horizon_weeks", sa.Integer(), nullable=False),
        sa.Column("insights", sa.JSON(), nullable=False),
        sa.Column("routine", sa.JSON(), nullable=False),
        sa.Column("support", sa.JSON(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["coaching_session_id"], ["coaching_sessions.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("coaching_session_id", "version"),
    )
    op.create_index("ix_plans_coaching_session_id", "plans", ["coaching_session_id"])
    op.create_table(
        "plan_goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_plan_goals_plan_id", "plan_goals", ["plan_id"])
    op.create_table(
        "plan_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["goal_id"], ["plan_goals.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_plan_steps_goal_id", "plan_steps", ["goal_id"])
    op.create_table(
        "plan_resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["goal_id"], ["plan_goals.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_plan_resources_goal_id", "plan_resources", ["goal_id"])
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_journal_entries_plan_id", "journal_entries", ["plan_id"])
    op.create_table(
        "mood_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coaching_session_id", sa.Integer(), nullable=False),
        sa.Column("moment", sa.String(length=10), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coaching_session_id"], ["coaching_sessions.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_mood_checkins_coaching_session_id", "mood_checkins", ["coaching_session_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_mood_checkins_coaching_session_id", table_name="mood_checkins")
    op.drop_table("mood_checkins")
    op.drop_index("ix_journal_entries_plan_id", table_name="journal_entries")
    op.drop_table("journal_entries")
    op.drop_index("ix_plan_resources_goal_id", table_name="plan_resources")
    op.drop_table("plan_resources")
    op.drop_index("ix_plan_steps_goal_id", table_name="plan_steps")
    op.drop_table("plan_steps")
    op.drop_index("ix_plan_goals_plan_id", table_name="plan_goals")
    op.drop_table("plan_goals")
    op.drop_index("ix_plans_coaching_session_id", table_name="plans")
    op.drop_table("plans")
