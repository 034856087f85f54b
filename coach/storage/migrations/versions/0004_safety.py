"""Safety: careful mode on a session, the safety rule behind a reply, the first
reply's disclosure, safety events.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("coaching_sessions") as batch_op:
        batch_op.add_column(sa.Column("careful_since", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("safety", sa.String(20), nullable=True))
        batch_op.add_column(
            sa.Column("discloses", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "safety_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coaching_session_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coaching_session_id"], ["coaching_sessions.id"], ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_safety_events_coaching_session_id", "safety_events", ["coaching_session_id"]
    )
    op.create_index("ix_safety_events_created_at", "safety_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_safety_events_created_at", table_name="safety_events")
    op.drop_index("ix_safety_events_coaching_session_id", table_name="safety_events")
    op.drop_table("safety_events")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("discloses")
        batch_op.drop_column("safety")
    with op.batch_alter_table("coaching_sessions") as batch_op:
        batch_op.drop_column("careful_since")
