"""Alembic environment: runs the migrations on the engine the app hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from coach.storage.models import Base

engine = context.config.attributes["engine"]

# Any number must do, as long as it is the same for every instance of the app.
MIGRATION_LOCK_ID = 7_461_001

with engine.connect() as connection:
    on_sqlite = connection.dialect.name == "sqlite"
    if on_sqlite:
        # Batch mode rebuilds a table by dropping the old one; with foreign keys on,
        # that would delete the rows that refer to it. The pragma has no effect inside
        # a transaction, so it is set on the driver's connection before one begins.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # Several instances starting at once take turns; the later ones find
                # the schema already at head.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID}
                )
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=on_sqlite,
            )
            context.run_migrations()
    finally:
        if on_sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
