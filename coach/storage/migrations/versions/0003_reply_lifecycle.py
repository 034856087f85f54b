"""A reply can be cancelled from another request; the model's reading of the record
is tracked by the last message it covered.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("coaching_sessions") as batch_op:
        batch_op.add_column(
            sa.Column(
                "reply_cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column("refined_through_id", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("coaching_sessions") as batch_op:
        batch_op.drop_column("refined_through_id")
        batch_op.drop_column("reply_cancel_requested")
