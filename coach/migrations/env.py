"""Alembic environment: runs the migrations on the engine the app hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from coach.models import Base

engine = context.config.attributes["engine"]

# Any number must do, as long as it is the same for every instance of the app.
MIGRATION_LOCK_ID = 7_461_001

with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        # Several instances starting at once take turns; the later ones find
        # the schema already at head.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
