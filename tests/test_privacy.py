"""Privacy: a seeker can take everything away with them or delete it all; deleted
words are gone from the database files too; logs never hold a seeker's words; idle
guests are purged; an admin sees counts, not people."""

from __future__ import annotations

import logging
import sqlite3
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from coach.coaching.privacy import purge_idle_guests
from coach.storage import database as database_module
from coach.storage.database import CHECKPOINT_ATTEMPTS, database
from coach.storage.models import CoachingSession, Message, User
from coach.web.auth import create_user
from tests.conftest import ApiActions

MARKER = "zebra-quartz-7319"


def _sqlite_files(app: Flask) -> list[Path]:
    main = Path(app.config["COACH_DATABASE_URL"].removeprefix("sqlite:///"))
    return [p for p in (main, main.with_name(main.name + "-wal")) if p.exists()]


def _anywhere_on_disk(app: Flask, text: str) -> bool:
    return any(text.encode() in path.read_bytes() for path in _sqlite_files(app))


def _conversation(api: ApiActions, marker: str = MARKER) -> tuple[str, int]:
    token = api.guest()
    session_id = api.new_session(token)
    for text in (f"I feel crushed about {marker}.", f"They said my {marker} skills were thin."):
        assert api.send(token, session_id, text).status_code == 201
    return token, session_id


def test_deleting_a_session_leaves_no_words_in_the_sqlite_files(app: Flask, api: ApiActions):
    token, session_id = _conversation(api)
    assert _anywhere_on_disk(app, MARKER)
    response = api.client.delete(f"/api/v1/sessions/{session_id}", headers=api.headers(token))
    assert response.status_code == 204
    assert not _anywhere_on_disk(app, MARKER)


def test_deleting_everything_removes_the_user_and_their_words(storage_app, storage_api):
    token, _session_id = _conversation(storage_api)
    response = storage_api.client.delete("/api/v1/me", headers=storage_api.headers(token))
    assert response.status_code == 204
    with database(storage_app).make_session() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 0
        assert db.scalar(select(func.count()).select_from(Message)) == 0
        assert db.scalar(select(func.count()).select_from(CoachingSession)) == 0
    if storage_app.config["COACH_DATABASE_URL"].startswith("sqlite"):
        assert not _anywhere_on_disk(storage_app, MARKER)
    gone = storage_api.client.get("/api/v1/sessions", headers=storage_api.headers(token))
    assert gone.status_code == 401


@pytest.fixture
def reader(app: Flask) -> Iterator[sqlite3.Connection]:
    """Another connection to the SQLite file, reading a snapshot, as a request in
    flight does while a deletion is checkpointed."""
    path = app.config["COACH_DATABASE_URL"].removeprefix("sqlite:///")
    connection = sqlite3.connect(path, isolation_level=None)
    yield connection
    connection.close()


def _watch_checkpoints(
    monkeypatch: pytest.MonkeyPatch, then: Callable[[bool], None] = lambda _emptied: None
) -> list[bool]:
    """Whether each checkpoint attempt emptied the log, in order."""
    attempts: list[bool] = []
    attempt = database_module._checkpoint_emptied_log

    def watched(driver: object) -> bool:
        emptied = attempt(driver)
        attempts.append(emptied)
        then(emptied)
        return emptied

    monkeypatch.setattr(database_module, "_checkpoint_emptied_log", watched)
    return attempts


def _wal_size(app: Flask) -> int:
    main = Path(app.config["COACH_DATABASE_URL"].removeprefix("sqlite:///"))
    return main.with_name(main.name + "-wal").stat().st_size


def test_a_reader_keeps_deleted_words_in_the_log_until_a_later_checkpoint(
    app: Flask,
    api: ApiActions,
    reader: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    token, session_id = _conversation(api)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM messages").fetchone() == (4,)
    attempts = _watch_checkpoints(monkeypatch)
    caplog.set_level(logging.WARNING, logger="coach.storage.database")
    response = api.client.delete(f"/api/v1/sessions/{session_id}", headers=api.headers(token))
    assert response.status_code == 204
    assert attempts == [False] * CHECKPOINT_ATTEMPTS
    [warning] = [r for r in caplog.records if r.name == "coach.storage.database"]
    assert warning.levelno == logging.WARNING
    assert "write-ahead log" in warning.getMessage()
    assert MARKER not in warning.getMessage()
    assert _anywhere_on_disk(app, MARKER)  # what the warning is about

    reader.execute("COMMIT")
    caplog.clear()
    attempts.clear()
    other = api.guest()
    other_session = api.new_session(other)
    api.client.delete(f"/api/v1/sessions/{other_session}", headers=api.headers(other))
    assert attempts == [True]
    assert not caplog.records
    assert _wal_size(app) == 0
    assert not _anywhere_on_disk(app, MARKER)


def test_the_checkpoint_tries_again_while_a_reader_finishes(
    app: Flask,
    api: ApiActions,
    reader: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    token, session_id = _conversation(api)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM messages").fetchone()

    def reader_finishes(emptied: bool) -> None:
        if not emptied:
            reader.execute("COMMIT")

    attempts = _watch_checkpoints(monkeypatch, then=reader_finishes)
    caplog.set_level(logging.WARNING, logger="coach.storage.database")
    response = api.client.delete(f"/api/v1/sessions/{session_id}", headers=api.headers(token))
    assert response.status_code == 204
    assert attempts == [False, True]
    assert not [r for r in caplog.records if r.name == "coach.storage.database"]
    assert _wal_size(app) == 0
    assert not _anywhere_on_disk(app, MARKER)


def test_the_export_holds_everything_stored_about_the_caller(api: ApiActions):
    token, session_id = _conversation(api)
    other = api.guest()
    api.new_session(other)
    export = api.client.get("/api/v1/me/export", headers=api.headers(token)).json
    [exported] = export["sessions"]
    assert exported["id"] == session_id
    assert [m["role"] for m in exported["messages"]] == ["user", "assistant"] * 2
    assert MARKER in exported["messages"][0]["content"]
    assert export["user"]["is_guest"] is True


def test_the_sqlite_file_is_readable_by_its_owner_only(app: Flask, api: ApiActions):
    _conversation(api)
    for path in _sqlite_files(app):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_logs_never_hold_a_seekers_words(
    app: Flask, api: ApiActions, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    token, session_id = _conversation(api)
    api.send(token, session_id, f"sometimes I think everyone would be better off {MARKER}")
    api.send(token, session_id, "")  # refused
    api.client.get("/api/v1/me/export", headers=api.headers(token))
    api.client.delete("/api/v1/me", headers=api.headers(token))
    assert caplog.records
    for record in caplog.records:
        assert MARKER not in record.getMessage(), record.name
        assert "better off" not in record.getMessage(), record.name


def test_purge_deletes_idle_guests_only(app: Flask, api: ApiActions):
    idle_token, idle_session = _conversation(api, "idle-marker-4411")
    fresh_token, _ = _conversation(api, "fresh-marker-9902")
    long_ago = datetime.now(UTC) - timedelta(days=100)
    with database(app).make_session() as db, db.begin():
        idle_owner = db.get_one(CoachingSession, idle_session).owner_id
        db.execute(update(User).where(User.id == idle_owner).values(created_at=long_ago))
        db.execute(
            update(CoachingSession)
            .where(CoachingSession.id == idle_session)
            .values(updated_at=long_ago)
        )
    assert purge_idle_guests(app, 90) == 1
    assert api.client.get("/api/v1/sessions", headers=api.headers(idle_token)).status_code == 401
    assert api.client.get("/api/v1/sessions", headers=api.headers(fresh_token)).status_code == 200
    assert not _anywhere_on_disk(app, "idle-marker-4411")
    assert _anywhere_on_disk(app, "fresh-marker-9902")


def test_coach_purge_runs_from_the_command_line(app: Flask, api: ApiActions):
    _conversation(api)
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 0 guest(s) idle for 90 days" in result.output


def test_an_admin_sees_crisis_referrals_by_day_and_nobody_else_does(app: Flask, api: ApiActions):
    token = api.guest()
    session_id = api.new_session(token)
    api.send(token, session_id, "I want to kill myself")
    assert (
        api.client.get("/api/v1/admin/safety/referrals", headers=api.headers(token)).status_code
        == 403
    )
    with database(app).make_session() as db:
        create_user(db, "admin@example.org", "a long enough password", "admin")
    login = api.client.post(
        "/api/v1/auth/login",
        json={"email": "admin@example.org", "password": "a long enough password"},
    )
    admin = login.json["token"]
    days = api.client.get("/api/v1/admin/safety/referrals", headers=api.headers(admin)).json
    today = datetime.now(UTC).date().isoformat()
    assert days == {"days": [{"day": today, "crisis": 1}]}
