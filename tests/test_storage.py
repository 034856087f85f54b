"""Storage on SQLite and on the real PostgreSQL of the machine (`storage_app`)."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, func, inspect, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from coach import create_app
from coach.guide.record import ReflectionRecord
from coach.storage import database as storage_database
from coach.storage import models
from coach.storage.database import alembic_config, database
from coach.storage.models import ApiToken, Base, CoachingSession, Message, User
from coach.storage.turn_rows import insert_message, write_changes
from tests.conftest import ApiActions, base_config


# SQLite cannot reflect an expression index, so alembic skips comparing the one
# PostgreSQL-only full-text index there (and says so); on PostgreSQL it is compared.
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index"
    " 'ix_messages_content_fulltext'; dialect 'sqlite'"
)
def test_the_migrations_match_the_models(storage_app):
    with database(storage_app).engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, Base.metadata) == []


def test_importing_the_models_maps_and_exports_every_model():
    """The package alone (in a fresh interpreter) maps every model of its modules, so
    that relationships find their targets by name and the migrations compare against
    the whole schema; and each model is importable from the package."""
    defined = set()
    for module_info in pkgutil.iter_modules(models.__path__):
        module = importlib.import_module(f"{models.__name__}.{module_info.name}")
        defined.update(
            name
            for name, value in vars(module).items()
            if isinstance(value, type)
            and issubclass(value, Base)
            and value is not Base
            and value.__module__ == module.__name__
        )
    script = (
        "import json\n"
        "from sqlalchemy.orm import configure_mappers\n"
        "import coach.storage.models as models\n"
        "configure_mappers()\n"
        "print(json.dumps([m.class_.__name__ for m in models.Base.registry.mappers]))"
    )
    mapped = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert {"User", "CoachingSession", "Plan", "AuditEntry"} <= defined  # found them
    assert set(json.loads(mapped)) == defined
    assert defined <= set(models.__all__)


def test_migrations_go_down_and_up_again(storage_app):
    config = alembic_config(database(storage_app))
    command.downgrade(config, "base")
    assert "messages" not in inspect(database(storage_app).engine).get_table_names()
    command.upgrade(config, "head")
    assert "messages" in inspect(database(storage_app).engine).get_table_names()


def test_a_migration_that_rebuilds_a_table_keeps_its_rows(storage_app, storage_api):
    token = storage_api.guest()
    session_id = storage_api.new_session(token)
    storage_api.send(token, session_id, "Keep me through the migrations")
    config = alembic_config(database(storage_app))
    command.downgrade(config, "0001")
    command.upgrade(config, "head")
    contents = [m["content"] for m in storage_api.session(token, session_id)["messages"]]
    assert contents[0] == "Keep me through the migrations"
    assert len(contents) == 2


@pytest.fixture
def postgres_app(app_factory, postgres_url):
    return app_factory(COACH_DATABASE_URL=postgres_url)


def test_the_message_page_index_is_built_without_blocking_writes_on_postgresql(postgres_app):
    """Migration 0010 builds its index CONCURRENTLY, outside a transaction: a plain
    CREATE INDEX would block every message written meanwhile by instances still
    serving. A build left invalid by a failed attempt is built again."""
    db = database(postgres_app)
    config = alembic_config(db)
    command.downgrade(config, "0009")
    with db.engine.begin() as connection:  # what a build that failed part-way leaves
        connection.exec_driver_sql(
            "CREATE INDEX ix_messages_coaching_session_id_id ON messages (id)"
        )
    statements: list[tuple[str, bool]] = []

    def seen(connection, cursor, statement, parameters, context, executemany):
        in_transaction = connection.connection.driver_connection.info.transaction_status != 0
        statements.append((" ".join(statement.split()), in_transaction))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        command.upgrade(config, "head")
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    built = [
        (sql, in_transaction)
        for sql, in_transaction in statements
        if "INDEX" in sql and "ix_messages_coaching_session_id" in sql
    ]
    assert built == [
        ("DROP INDEX CONCURRENTLY IF EXISTS ix_messages_coaching_session_id_id", False),
        (
            "CREATE INDEX CONCURRENTLY ix_messages_coaching_session_id_id "
            "ON messages (coaching_session_id, id)",
            False,
        ),
        ("DROP INDEX CONCURRENTLY IF EXISTS ix_messages_coaching_session_id", False),
    ]
    with db.engine.connect() as connection:
        valid = connection.exec_driver_sql(
            "SELECT indisvalid, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indexrelid = 'ix_messages_coaching_session_id_id'::regclass"
        ).one()
        held = connection.exec_driver_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
        ).scalar_one()
    assert valid[0] is True and valid[1].endswith("(coaching_session_id, id)")
    assert held == 0  # the migrations' lock was given back


def test_instances_migrating_at_once_take_turns_on_postgresql(postgres_url, tmp_path):
    """Several instances starting together on an empty PostgreSQL database (`coach db
    upgrade`, each a process of its own): each migrates or finds the schema at head;
    none fails on another's half-made tables or deadlocks with another's index build."""
    environment = {**os.environ, "COACH_DATABASE_URL": postgres_url, "SECRET_KEY": "x" * 32}
    upgrades = [
        subprocess.Popen(
            [sys.executable, "-m", "coach", "db", "upgrade"],
            env=environment,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [upgrade.communicate(timeout=120)[0] for upgrade in upgrades]
    assert [upgrade.returncode for upgrade in upgrades] == [0, 0, 0], outputs
    app = create_app(base_config(postgres_url))
    with database(app).engine.connect() as connection:
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    database(app).engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(database(app))).get_current_head()
    assert version == [(head,)]


def test_a_conversation_is_stored_and_read_back(storage_app, storage_api):
    token = storage_api.guest()
    session_id = storage_api.new_session(token)
    storage_api.send(token, session_id, "I feel gutted. They went with an internal candidate.")
    storage_api.send(token, session_id, "Yes, that's right")
    shown = storage_api.session(token, session_id)
    assert [m["role"] for m in shown["messages"]] == ["user", "assistant"] * 2
    assert shown["messages"][1]["choices"] == ["Yes, that's right", "Not quite"]
    assert shown["messages"][0]["created_at"].endswith("+00:00")
    with database(storage_app).make_session() as db:
        stored = db.get(CoachingSession, session_id)
        record = ReflectionRecord.model_validate(stored.reflection)
        reply = db.get(Message, shown["messages"][1]["id"])
        last_reply = db.get(Message, shown["messages"][3]["id"])
    assert "disappointment" in record.emotions  # confirmed by the seeker
    assert [c.cause for c in record.likely_causes] == ["competition"]
    assert stored.pending is not None
    assert reply.model == "guided"
    assert reply.reply_to_id == shown["messages"][0]["id"]
    assert reply.latency_ms is not None
    # Stored with plain statements (`coach.coaching.reply_storage`): the reply is the
    # session's latest activity, its HTML is written with it, and the mark is gone.
    assert _aware(stored.last_activity_at) == _aware(last_reply.created_at)
    assert last_reply.content_html is not None and last_reply.content_html.startswith("<p>")
    assert stored.replying_token is None and stored.replying_since is None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def test_deleting_a_user_removes_everything_they_own(storage_app, storage_api):
    token = storage_api.guest()
    session_id = storage_api.new_session(token)
    storage_api.send(token, session_id, "hello")
    with database(storage_app).make_session() as db, db.begin():
        session = db.get(CoachingSession, session_id)
        db.delete(db.get(User, session.owner_id))
    with database(storage_app).make_session() as db:
        for model in (CoachingSession, Message, ApiToken):
            assert db.scalar(select(func.count()).select_from(model)) == 0


def test_concurrent_seekers_do_not_lock_each_other_out(storage_app):
    """Several threads writing at once: with BEGIN IMMEDIATE and a busy timeout on
    SQLite, none of them sees "database is locked"."""
    failures: list[str] = []

    def seeker() -> None:
        api = ApiActions(storage_app.test_client())
        token = api.guest()
        session_id = api.new_session(token)
        for n in range(8):
            response = api.send(token, session_id, f"message {n}: I feel let down")
            if response.status_code != 201:
                failures.append(f"{response.status_code} {response.get_data(as_text=True)}")

    threads = [threading.Thread(target=seeker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    with database(storage_app).make_session() as db:
        assert db.scalar(select(func.count()).select_from(Message)) == 4 * 8 * 2


def test_a_reading_request_does_not_hold_the_write_lock(storage_app):
    """On SQLite, reads begin DEFERRED: an open read must not lock writers out."""
    db = database(storage_app)
    with db.make_read_session() as reader, reader.begin():
        reader.execute(select(func.count()).select_from(User))
        with db.make_session() as writer, writer.begin():
            writer.add(User(role="seeker", is_guest=True))
    with db.make_session() as check:
        assert check.scalar(select(func.count()).select_from(User)) == 1


def test_sqlite_commits_in_wal_mode_without_a_sync_each(app):
    """WAL with synchronous=NORMAL: a commit is not an fsync (about 5 ms each here)."""
    with database(app).engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _terminate(engine: Engine, pid: int) -> None:
    with engine.connect() as connection:
        connection.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
        connection.commit()


@pytest.mark.parametrize("idle_seconds", [0.0, 3600.0])
def test_a_pooled_connection_is_pinged_only_after_it_sat_idle(
    postgres_url, monkeypatch, idle_seconds
):
    """A connection idle past PING_AFTER_IDLE_SECONDS is pinged at checkout, and one
    that died meanwhile is replaced; one in steady use goes out without a round trip."""
    monkeypatch.setattr(storage_database, "PING_AFTER_IDLE_SECONDS", idle_seconds)
    engine = storage_database.create_database(postgres_url).engine
    other = create_engine(postgres_url, poolclass=NullPool)
    try:
        pid = _backend_pid(engine)  # the pool keeps this connection
        _terminate(other, pid)
        time.sleep(0.1)
        if idle_seconds == 0.0:
            assert _backend_pid(engine) != pid  # pinged, found dead, replaced
        else:
            with pytest.raises(OperationalError):  # not pinged: the dead one went out
                _backend_pid(engine)
    finally:
        engine.dispose()
        other.dispose()


def test_a_turn_message_is_stored_with_every_column_and_its_html(storage_app, storage_api):
    token = storage_api.guest()
    session_id = storage_api.new_session(token)
    given = {
        "coaching_session_id": session_id,
        "role": "user",
        "content": "It *stings*.",
        "stage": "emotions",
        "status": "complete",
        "created_at": datetime.now(UTC),
    }
    with database(storage_app).make_session() as db, db.begin():
        with pytest.raises(TypeError, match="stage"):
            insert_message(db, **{k: v for k, v in given.items() if k != "stage"})
        with pytest.raises(TypeError):
            insert_message(db, **given, content_html="<p>set by the caller</p>")
        stored = insert_message(db, **given)
        # Attached as if loaded: a change to it is flushed like any other.
        stored.stage = "causes"
    with database(storage_app).make_session() as db:
        again = db.get_one(Message, stored.id)
    assert again.content_html == "<p>It <em>stings</em>.</p>\n"
    assert (again.stage, again.discloses, again.choices) == ("causes", False, None)


def test_a_settled_turn_s_changes_are_written_without_a_flush(storage_app, storage_api):
    token = storage_api.guest()
    session_id = storage_api.new_session(token)
    with database(storage_app).make_session() as db, db.begin():
        coaching_session = db.get_one(CoachingSession, session_id)
        message = insert_message(
            db,
            coaching_session_id=session_id,
            role="user",
            content="I keep replaying it.",
            stage="emotions",
            status="complete",
            created_at=datetime.now(UTC),
        )
        coaching_session.stage, coaching_session.stage_turns = "causes", 3
        coaching_session.pending = {"baseline": {"emotions": ["gutted"]}}
        message.stage = "causes"
        write_changes(db, coaching_session, message)
        # Both rows hold what is stored: nothing is left for a flush to write.
        assert not db.dirty
    with database(storage_app).make_session() as db:
        stored_session = db.get_one(CoachingSession, session_id)
        stored_message = db.get_one(Message, message.id)
        assert (stored_session.stage, stored_session.stage_turns) == ("causes", 3)
        assert stored_session.pending == {"baseline": {"emotions": ["gutted"]}}
        assert stored_message.stage == "causes"
        assert stored_message.content_html == "<p>I keep replaying it.</p>\n"
        # Content is not what settling changes: its HTML would be out of date.
        stored_message.content = "Changed by something else."
        with pytest.raises(ValueError, match="content"):
            write_changes(db, stored_session, stored_message)
