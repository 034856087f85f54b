"""The dialogue: quick-reply choices on a coach message; what the last coach turn
proposed and asked, on the session.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("choices", sa.JSON(), nullable=True))
    with op.batch_alter_table("coaching_sessions") as batch_op:
        batch_op.add_column(sa.Column("pending", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coaching_sessions") as batch_op:
        batch_op.drop_column("pending")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("choices")
