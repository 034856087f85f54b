"""Each message's content as safe HTML, rendered once when it is stored.

Rows stored before this revision keep NULL, and are rendered when they are read
(`Message.shown_html`): rendering every message of a large database here would
hold the upgrade for as long as that takes, for rows few will read again.
`coach db store-html` stores their HTML, a batch at a time, whenever wanted.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("content_html", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("content_html")
