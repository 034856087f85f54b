"""When a counselor last changed a note, so that the seeker and other counselors see
that a note they may have read before was edited.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "counselor_notes", sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("counselor_notes") as batch:
        batch.drop_column("edited_at")
