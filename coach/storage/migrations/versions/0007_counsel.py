"""Counselor review: consent to show one's name, the flagged mark and the latest
activity on sessions (with the dashboard's indexes), token expiry, display names,
counselors' notes and the audit log; on PostgreSQL a full-text index over messages.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# PostgreSQL only: the dashboard's search reads messages through this index
# (`coach.counsel.dashboard` writes the same expression).
SEARCH_INDEX = "ix_messages_content_fulltext"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("display_name", sa.String(length=100), nullable=True))
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("coaching_sessions") as batch_op:
        batch_op.add_column(
            sa.Column("show_name", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("flagged", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=True)
        )
    sessions = sa.table(
        "coaching_sessions",
        sa.column("id", sa.Integer()),
        sa.column("flags", sa.JSON()),
        sa.column("flagged", sa.Boolean()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("last_activity_at", sa.DateTime(timezone=True)),
    )
    messages = sa.table(
        "messages",
        sa.column("coaching_session_id", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    latest = (
        sa.select(sa.func.max(messages.c.created_at))
        .where(messages.c.coaching_session_id == sessions.c.id)
        .scalar_subquery()
    )
    op.execute(
        sessions.update().values(last_activity_at=sa.func.coalesce(latest, sessions.c.updated_at))
    )
    # Only one flag exists so far; any stored list other than an empty one is flagged.
    connection = op.get_bind()
    for session_id, flags in connection.execute(sa.select(sessions.c.id, sessions.c.flags)):
        if flags:
            connection.execute(
                sessions.update().where(sessions.c.id == session_id).values(flagged=True)
            )
    with op.batch_alter_table("coaching_sessions") as batch_op:
        batch_op.alter_column(
            "last_activity_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.create_index(
            "ix_coaching_sessions_shared_activity", ["shared", "last_activity_at", "id"]
        )
        batch_op.create_index(
            "ix_coaching_sessions_shared_flagged_activity",
            ["shared", "flagged", "last_activity_at", "id"],
        )
        batch_op.create_index(
            "ix_coaching_sessions_shared_stage_activity",
            ["shared", "stage", "last_activity_at", "id"],
        )
    op.create_table(
        "counselor_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coaching_session_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("visible_to_seeker", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coaching_session_id"], ["coaching_sessions.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_counselor_notes_coaching_session_id", "counselor_notes", ["coaching_session_id"]
    )
    op.create_index("ix_counselor_notes_message_id", "counselor_notes", ["message_id"])
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("coaching_session_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_entries_created_at", "audit_entries", ["created_at"])
    op.create_index(
        "ix_audit_entries_coaching_session_id", "audit_entries", ["coaching_session_id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE INDEX {SEARCH_INDEX} ON messages USING gin (to_tsvector('simple', content))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")
    op.drop_table("audit_entries")
    op.drop_table("counselor_notes")
    with op.batch_alter_table("coaching_sessions") as batch_op:
        batch_op.drop_index("ix_coaching_sessions_shared_stage_activity")
        batch_op.drop_index("ix_coaching_sessions_shared_flagged_activity")
        batch_op.drop_index("ix_coaching_sessions_shared_activity")
        batch_op.drop_column("last_activity_at")
        batch_op.drop_column("flagged")
        batch_op.drop_column("show_name")
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("display_name")
