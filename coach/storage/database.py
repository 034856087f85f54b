"""The database: one engine and session factory per app, kept in `app.extensions`.

A request gets its own SQLAlchemy session through `get_db()`, closed when the
request ends. Code that must not hold a pooled connection for long (a streamed
reply takes seconds) opens short sessions with `short_transaction()` instead.
The schema is kept by the Alembic migrations in `coach/migrations/`.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from coach.storage import word_search
from coach.storage.write_turns import WriteTurns

log = logging.getLogger(__name__)

EXTENSION_KEY = "coach.storage.database"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
# Emptying the write-ahead log after a deletion: short waits, a few times, so that a
# delete request is not held for long by a reader that stays.
CHECKPOINT_ATTEMPTS = 5
CHECKPOINT_BUSY_TIMEOUT_MS = 50
CHECKPOINT_PAUSE_SECONDS = 0.05
BEGIN_OPTION = "coach_sqlite_begin"
# Marks a SQLite connection whose transaction holds this process's turn to write.
HOLDS_WRITE_TURN = "coach_holds_write_turn"
# PostgreSQL: a pooled connection is pinged before use only after it sat idle this
# long (a server or proxy may have closed it meanwhile); one in steady use is not,
# since `pool_pre_ping` would add a round trip to every checkout, several a turn.
# Connections older than POOL_RECYCLE_SECONDS are replaced (before the usual
# server or proxy idle limits close them under us).
PING_AFTER_IDLE_SECONDS = 10.0
POOL_RECYCLE_SECONDS = 1800
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Database:
    engine: Engine
    make_session: sessionmaker[Session]
    # For requests that only read: on SQLite their transactions begin DEFERRED,
    # so that they do not take the write lock.
    make_read_session: sessionmaker[Session]


def create_database(url: str) -> Database:
    # hide_parameters: statement errors would otherwise log the seeker's words.
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            hide_parameters=True,
        )
        _tune_sqlite(engine)
    else:
        engine = create_engine(url, pool_recycle=POOL_RECYCLE_SECONDS, hide_parameters=True)
        _ping_after_idle(engine)
    reader = engine.execution_options(**{BEGIN_OPTION: "DEFERRED"})
    return Database(
        engine,
        sessionmaker(engine, expire_on_commit=False),
        sessionmaker(reader, expire_on_commit=False),
    )


def _tune_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers; every transaction begins as a write (BEGIN IMMEDIATE),
    so that a reader that later writes waits for the lock instead of failing with
    "database is locked" whatever the busy timeout."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # In WAL mode NORMAL is safe from corruption and syncs at checkpoints rather
        # than at every commit (about 5 ms each on our disks, three a turn). A commit
        # survives the app crashing or being killed; only a power cut or an OS crash
        # may lose the last few, as with a database server that batches its syncs.
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows are overwritten, not just unlinked: a seeker's deleted words
        # must not stay readable in the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()
        word_search.register(dbapi_connection)

    # SQLite's busy handler polls with growing sleeps, so under many concurrent
    # turns a writer can lose the race again and again until its busy timeout ends
    # in "database is locked". The writers of one process queue here instead, in
    # the order they came, and only processes compete through SQLite's own lock. The
    # wait is bounded: past it the writer goes on and SQLite's busy timeout decides.
    writers = WriteTurns()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        if mode == "IMMEDIATE" and writers.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            connection.info[HOLDS_WRITE_TURN] = True
        try:
            connection.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _give_turn_back(connection.info)
            raise

    def _give_turn_back(info: dict[str, Any]) -> None:
        """Release the turn if this connection holds it (`info` is the pooled
        connection's own, the same whether seen from a Connection or the pool)."""
        if info.pop(HOLDS_WRITE_TURN, False):
            writers.release()

    event.listen(engine, "commit", lambda connection: _give_turn_back(connection.info))
    event.listen(engine, "rollback", lambda connection: _give_turn_back(connection.info))
    # A connection given back to the pool mid-transaction (its holder dropped it)
    # is rolled back by the pool without the events above: let the turn go too.
    event.listen(engine, "checkin", lambda _dbapi, record: _give_turn_back(record.info))


def _ping_after_idle(engine: Engine) -> None:
    """`pool_pre_ping`, but only for a connection that was idle a while: a dead one is
    thrown away and replaced, and the checkout goes on with a fresh connection."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            # psycopg opens a transaction for the ping; the pool hands out none open.
            dbapi_connection.rollback()
        except Exception as exc:
            # The pool discards this connection and retries the checkout with a new one.
            raise DisconnectionError("the pooled connection did not answer") from exc


def init_app(app: Flask) -> None:
    url = app.config["COACH_DATABASE_URL"]
    if url.startswith("sqlite:///"):
        _private_file(Path(url.removeprefix("sqlite:///")))
    app.extensions[EXTENSION_KEY] = create_database(url)
    app.teardown_appcontext(_close_request_session)


def _private_file(path: Path) -> None:
    """The SQLite file, readable by its owner only. SQLite gives its -wal and -shm
    files the database file's permissions, so making this one private is enough."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)


def forget_deleted(app: Flask) -> None:
    """After deleting a seeker's data: on SQLite, copy the write-ahead log into the
    database (where secure_delete has overwritten the rows) and empty it, so that
    the deleted text is not left readable in `coach.db-wal`. PostgreSQL needs nothing:
    its files are the server's, not readable by the app's users.

    A checkpoint cannot empty the log while another connection still reads an older
    snapshot from it (a request in flight): then it tries again a few times, and if
    the log still holds the text, warns; the next deletion's checkpoint empties it.
    """
    engine = database(app).engine
    if engine.dialect.name != "sqlite":
        return
    # On the driver's connection, outside any transaction: a checkpoint cannot
    # empty the log while its own connection holds a read open.
    connection = engine.raw_connection()
    driver = connection.driver_connection
    assert driver is not None  # a connection just checked out of the pool
    try:
        # Waiting for readers is what the pauses below are for: a checkpoint waits
        # out the whole busy timeout (seconds) when a reader stays.
        driver.execute(f"PRAGMA busy_timeout={CHECKPOINT_BUSY_TIMEOUT_MS}")
        for attempt in range(1, CHECKPOINT_ATTEMPTS + 1):
            if _checkpoint_emptied_log(driver):
                return
            if attempt < CHECKPOINT_ATTEMPTS:
                time.sleep(CHECKPOINT_PAUSE_SECONDS * attempt)
        log.warning(
            "The SQLite write-ahead log still holds deleted data after %d checkpoint "
            "attempts: another connection is reading from it. A later deletion's "
            "checkpoint will empty it.",
            CHECKPOINT_ATTEMPTS,
        )
    finally:
        driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        connection.close()


def _checkpoint_emptied_log(driver: Any) -> bool:
    """One TRUNCATE checkpoint; whether it copied the whole log and emptied it."""
    try:
        busy, _log_frames, _copied = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError:  # "database is locked": a writer held on
        return False
    # busy is 1 when a reader or writer kept the log from being copied and emptied.
    return bool(busy == 0)


def database(app: Flask | None = None) -> Database:
    db: Database = (app or current_app).extensions[EXTENSION_KEY]
    return db


def get_db() -> Session:
    """The current request's session, opened on first use."""
    if "db_session" not in g:
        db = database()
        reading = has_request_context() and request.method in READ_ONLY_METHODS
        g.db_session = db.make_read_session() if reading else db.make_session()
    session: Session = g.db_session
    return session


def rollback_request_session() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def _close_request_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def short_transaction(app: Flask, *, read_only: bool = False) -> Iterator[Session]:
    """A session that commits on success and is closed at once, whatever happens.

    `read_only` begins DEFERRED on SQLite, so that it does not take the write lock.
    """
    db = database(app)
    factory = db.make_read_session if read_only else db.make_session
    with factory() as session, session.begin():
        yield session


def alembic_config(db: Database) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = db.engine
    return config


def upgrade_schema(app: Flask) -> None:
    """Bring the schema up to the newest migration (idempotent)."""
    db = database(app)
    command.upgrade(alembic_config(db), "head")
    # Leave no pooled connection behind: a server may fork workers next, and
    # a connection must never be shared across a fork.
    db.engine.dispose()
