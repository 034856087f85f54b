"""Alembic environment: runs the migrations on the engine the app hands over."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy import Connection, text

from coach.storage.models import Base

engine = context.config.attributes["engine"]

# Any number must do, as long as it is the same for every instance of the app.
MIGRATION_LOCK_ID = 7_461_001
# How often an instance that waits for another's migrations asks for the lock again.
LOCK_POLL_SECONDS = 0.2


@contextmanager
def migrating_alone(connection: Connection) -> Iterator[None]:
    """PostgreSQL: several instances starting at once take turns; the later ones find
    the schema already at head. The lock is the session's, not a transaction's: a
    migration that builds an index CONCURRENTLY commits part-way (outside any
    transaction), and the lock must outlast that.

    It is asked for again and again rather than waited for: a wait would hold a
    transaction open the whole time, and CREATE INDEX CONCURRENTLY in the instance
    migrating waits for every open transaction to end, a deadlock."""
    lock = text("SELECT pg_try_advisory_lock(:id)")
    while not connection.execute(lock, {"id": MIGRATION_LOCK_ID}).scalar_one():
        connection.commit()
        time.sleep(LOCK_POLL_SECONDS)
    connection.commit()
    try:
        yield
    except BaseException:
        # The connection may be broken or inside a failed transaction; closing it
        # is the one sure way to give the lock back.
        connection.invalidate()
        raise
    connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
    connection.commit()


with engine.connect() as connection:
    on_sqlite = connection.dialect.name == "sqlite"
    if on_sqlite:
        # Batch mode rebuilds a table by dropping the old one; with foreign keys on,
        # that would delete the rows that refer to it. The pragma has no effect inside
        # a transaction, so it is set on the driver's connection before one begins.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        # SQLite: one write transaction for the whole run (BEGIN IMMEDIATE), which is
        # also what makes instances take turns. PostgreSQL: a transaction for each
        # migration, under the session's lock, so that one may step outside its
        # transaction (`op.get_context().autocommit_block()`).
        with connection.begin() if on_sqlite else migrating_alone(connection):
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=on_sqlite,
                transaction_per_migration=not on_sqlite,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if on_sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
