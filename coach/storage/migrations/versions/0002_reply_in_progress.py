"""Mark a coaching session while a reply to it is being written.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("coaching_sessions") as batch_op:
        batch_op.add_column(sa.Column("replying_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("replying_token", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coaching_sessions") as batch_op:
        batch_op.drop_column("replying_token")
        batch_op.drop_column("replying_since")
