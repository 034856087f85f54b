"""What keeps a conversation whole: one reply at a time, a reply kept when the
client goes away, and inputs that must never cost the seeker their message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from werkzeug.test import EnvironBuilder

from coach.coaching import reply, turns
from coach.coaching.reply_mark import MARK_LIFETIME
from coach.coaching.turns import begin_turn
from coach.storage.database import database
from coach.storage.models import CoachingSession, Message


def _mark(app, session_id: int, age: timedelta) -> None:
    """Mark the session as another turn would, `age` ago."""
    with database(app).make_session() as db, db.begin():
        coaching_session = db.get(CoachingSession, session_id)
        coaching_session.replying_since = datetime.now(UTC) - age
        coaching_session.replying_token = "another-turn"


def _replying(app, session_id: int) -> bool:
    with database(app).make_session() as db:
        return db.get(CoachingSession, session_id).replying_token is not None


def _owner(app, session_id: int) -> int:
    with database(app).make_session() as db:
        return db.get_one(CoachingSession, session_id).owner_id


def _messages(app, session_id: int) -> list[Message]:
    with database(app).make_session() as db:
        return list(db.scalars(Message.in_session(session_id)))


def test_a_message_while_a_reply_is_being_written_is_refused_and_not_stored(app, api):
    token = api.guest()
    session_id = api.new_session(token)
    _mark(app, session_id, timedelta(seconds=1))
    response = api.send(token, session_id, "Are you there?")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "reply_in_progress"
    assert _messages(app, session_id) == []


def test_retry_while_a_reply_is_being_written_is_refused(app, client, api):
    token = api.guest()
    session_id = api.new_session(token)
    api.send(token, session_id, "I feel low")
    with database(app).make_session() as db, db.begin():
        db.scalars(Message.in_session(session_id)).all()[-1].status = "failed"
    _mark(app, session_id, timedelta(seconds=1))
    response = client.post(f"/api/v1/sessions/{session_id}/retry", headers=api.headers(token))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "reply_in_progress"


def test_a_mark_left_by_a_dead_worker_expires(app, api):
    token = api.guest()
    session_id = api.new_session(token)
    _mark(app, session_id, MARK_LIFETIME + timedelta(seconds=1))
    assert api.send(token, session_id, "Hello again").status_code == 201


def test_the_mark_is_cleared_after_every_reply(app, api):
    token = api.guest()
    session_id = api.new_session(token)
    for text in ("one", "two", "three"):
        assert api.send(token, session_id, text).status_code == 201
        assert api.session(token, session_id)["replying"] is False
    assert api.send_streaming(token, session_id, "four")[-1][0] == "done"
    assert not _replying(app, session_id)


def test_a_client_that_goes_away_mid_reply_leaves_a_partial_reply(app, api):
    token = api.guest()
    session_id = api.new_session(token)
    user_id = _owner(app, session_id)
    answer = begin_turn(app, user_id, session_id, "I feel crushed and a bit lost.")
    events = iter(answer)
    assert next(events).name == "message"
    first = next(events)
    answer.close()  # what the server does when the connection drops
    assert first.name == "delta"
    assert not _replying(app, session_id)
    stored = _messages(app, session_id)
    assert [(m.role, m.status) for m in stored] == [("user", "complete"), ("assistant", "partial")]
    assert stored[1].content == first.text
    assert api.send(token, session_id, "Still here").status_code == 201


@pytest.mark.parametrize(
    "content",
    ["x" * 4000, "seven short words then a long url https://example.org/" + "a" * 300],
)
def test_a_first_message_of_any_shape_names_the_session_safely(storage_api, content):
    token = storage_api.guest()
    session_id = storage_api.new_session(token)
    assert storage_api.send(token, session_id, content).status_code == 201
    shown = storage_api.session(token, session_id)
    assert len(shown["title"]) <= 200
    assert shown["messages"][0]["content"] == content


def test_a_nul_character_is_refused_clearly_on_every_database(storage_api):
    token = storage_api.guest()
    session_id = storage_api.new_session(token)
    response = storage_api.send(token, session_id, "before\x00after")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_characters"
    assert storage_api.send(token, session_id, "after a refusal").status_code == 201


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/sessions?page=%C2%B2", 400),
        ("/api/v1/sessions?page=99999999999999999999999", 400),
        ("/api/v1/sessions/99999999999999999999999", 404),
    ],
)
def test_odd_numbers_are_client_errors(client, api, path, status):
    token = api.guest()
    response = client.get(path, headers=api.headers(token))
    assert response.status_code == status
    assert response.is_json


def test_a_stream_the_client_never_reads_still_clears_the_mark(app, api):
    token = api.guest()
    session_id = api.new_session(token)
    environ = EnvironBuilder(
        path=f"/api/v1/sessions/{session_id}/messages",
        method="POST",
        headers=api.headers(token, Accept="text/event-stream"),
        json={"content": "Hello"},
    ).get_environ()
    statuses = []
    body = app(environ, lambda status, _headers, _exc=None: statuses.append(status))
    body.close()  # the server closes the response without sending a single event
    assert statuses == ["201 CREATED"]
    assert not _replying(app, session_id)
    assert api.send(token, session_id, "Hello again").status_code == 201


def test_a_reply_that_cannot_be_stored_still_clears_the_mark(app, api, monkeypatch):
    token = api.guest()
    session_id = api.new_session(token)

    def broken_store(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(reply, "store_reply", broken_store)
    events = api.send_streaming(token, session_id, "I feel let down")
    assert events[-1][0] == "error"
    assert events[-1][1]["retryable"] is True
    monkeypatch.undo()
    assert not _replying(app, session_id)
    assert api.send(token, session_id, "Are you there?").status_code == 201


def test_a_turn_writes_twice_storing_the_message_with_its_screen_and_settling_then_the_reply(
    app, api
):
    """Under concurrent turns each write waits for the others: the message, its safety
    screen and the settled turn go in one write, the reply in a second."""
    token = api.guest()
    session_id = api.new_session(token)
    writes: list[str] = []

    def count_writes(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("BEGIN") and "DEFERRED" not in statement:
            writes.append(statement)

    engine = database(app).engine
    event.listen(engine, "before_cursor_execute", count_writes)
    try:
        assert api.send(token, session_id, "They picked someone else.").status_code == 201
    finally:
        event.remove(engine, "before_cursor_execute", count_writes)
    assert writes == ["BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]
    assert [m.role for m in _messages(app, session_id)] == ["user", "assistant"]


def test_a_settle_that_fails_where_the_message_is_stored_is_undone_and_done_again(
    app, api, monkeypatch, caplog
):
    """The screen and the settle run in a savepoint: what they wrote before failing is
    rolled back, the message is stored all the same, and the reply screens and
    settles the turn once, on its own."""
    token = api.guest()
    session_id = api.new_session(token)
    real_settle, calls = turns._settle, []

    def settles_then_breaks(*args):
        calls.append(1)
        settled = real_settle(*args)
        if len(calls) == 1:
            raise RuntimeError("broke after writing")
        return settled

    monkeypatch.setattr(turns, "_settle", settles_then_breaks)
    response = api.send(token, session_id, "I keep replaying the interview.")
    assert response.status_code == 201
    assert response.json["reply"]["status"] == "complete"
    assert len(calls) == 2
    assert "could not screen and settle message" in caplog.text
    with database(app).make_session() as db:
        # Counted once: the failed attempt's writes were undone with its savepoint.
        assert db.get_one(CoachingSession, session_id).stage_turns == 1
    assert [m.role for m in _messages(app, session_id)] == ["user", "assistant"]


def test_when_both_the_stored_settle_and_the_second_screen_fail_the_turn_fails_closed(
    app, api, monkeypatch
):
    """The reply screens again on its own, fails closed, and still shows the seeker
    the message as it was stored."""
    from coach.safety import screening

    token = api.guest()
    session_id = api.new_session(token)
    real_settle, real_earlier, calls = turns._settle, screening._earlier_messages, []

    def settles_then_breaks(*args):
        real_settle(*args)  # changes the message's stage, then fails
        raise RuntimeError("broke after writing")

    def earlier_breaks_the_second_time(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the screen broke")
        return real_earlier(*args)

    monkeypatch.setattr(turns, "_settle", settles_then_breaks)
    monkeypatch.setattr(screening, "_earlier_messages", earlier_breaks_the_second_time)
    response = api.send(token, session_id, "I keep replaying the interview.")
    assert response.status_code == 201
    assert response.json["user_message"]["content"] == "I keep replaying the interview."
    assert response.json["reply"]["safety"]["kind"] == "crisis"
