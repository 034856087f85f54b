"""A session's messages indexed in order, (coaching_session_id, id), so that a page of
the conversation (the newest, or those before an id) is read off the index with no
sort. It leads with the session id, so it serves every look-up the single-column
index on coaching_session_id served (and the cascade from a deleted session): that
one goes.

On PostgreSQL both are built and dropped CONCURRENTLY: a plain CREATE INDEX blocks
every write to the table while it reads the whole of it, and instances still serving
the old code go on storing messages during an upgrade.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SESSION_ORDER_INDEX = "ix_messages_coaching_session_id_id"
SESSION_INDEX = "ix_messages_coaching_session_id"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(SESSION_ORDER_INDEX, "messages", ["coaching_session_id", "id"])
        op.drop_index(SESSION_INDEX, table_name="messages")
        return
    # CONCURRENTLY cannot run inside a transaction (`migrations/env.py` keeps
    # other instances waiting meanwhile).
    with op.get_context().autocommit_block():
        # A build that failed part-way leaves an invalid index of this name behind,
        # and this migration was not recorded as done: build it again.
        op.drop_index(
            SESSION_ORDER_INDEX,
            table_name="messages",
            postgresql_concurrently=True,
            if_exists=True,
        )
        op.create_index(
            SESSION_ORDER_INDEX,
            "messages",
            ["coaching_session_id", "id"],
            postgresql_concurrently=True,
        )
        op.drop_index(
            SESSION_INDEX, table_name="messages", postgresql_concurrently=True, if_exists=True
        )


def downgrade() -> None:
    op.create_index(SESSION_INDEX, "messages", ["coaching_session_id"])
    op.drop_index(SESSION_ORDER_INDEX, table_name="messages")
