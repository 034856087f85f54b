"""What keeps a conversation whole: one reply at a time, a reply kept when the
client goes away, and inputs that must never cost the seeker their message."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.test import EnvironBuilder

from coach import turns
from coach.db import database
from coach.models import CoachingSession, Message
from coach.reply_mark import MARK_LIFETIME
from coach.turns import answer_turn, begin_turn
from tests.conftest import ApiActions


def _mark(app, session_id: int, age: timedelta) -> None:
    """Mark the session as another turn would, `age` ago."""
    with database(app).make_session() as db, db.begin():
        coaching_session = db.get(CoachingSession, session_id)
        coaching_session.replying_since = datetime.now(UTC) - age
        coaching_session.replying_token = "another-turn"


def _replying(app, session_id: int) -> bool:
    with database(app).make_session() as db:
        return db.get(CoachingSession, session_id).replying_token is not None


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
    with database(app).make_session() as db:
        coaching_session = db.get(CoachingSession, session_id)
        turn = begin_turn(app, db, coaching_session, "I feel crushed and a bit lost.")
    events = answer_turn(app, turn)
    first = next(events)
    events.close()  # what the server does when the connection drops
    assert first.name == "delta"
    assert not _replying(app, session_id)
    stored = _messages(app, session_id)
    assert [(m.role, m.status) for m in stored] == [("user", "complete"), ("assistant", "partial")]
    assert stored[1].content == first.data["text"]
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

    monkeypatch.setattr(turns, "_store_reply", broken_store)
    events = api.send_streaming(token, session_id, "I feel let down")
    assert events[-1][0] == "error"
    assert events[-1][1]["retryable"] is True
    monkeypatch.undo()
    assert not _replying(app, session_id)
    assert api.send(token, session_id, "Are you there?").status_code == 201


def test_a_long_reply_renews_its_mark(app, api, monkeypatch):
    renewed = []
    monkeypatch.setattr(turns, "RENEW_EVERY_SECONDS", 0.0)
    monkeypatch.setattr(turns, "renew", lambda _app, mark: renewed.append(mark.message_id))
    token = api.guest()
    session_id = api.new_session(token)
    body = api.send(token, session_id, "I feel let down").json
    assert renewed
    assert set(renewed) == {body["user_message"]["id"]}


def test_racing_messages_never_leave_a_refused_message_or_a_double_reply(storage_app, storage_api):
    token = storage_api.guest()
    session_id = storage_api.new_session(token)
    barrier = threading.Barrier(4)
    outcomes: list[tuple[str, int]] = []

    def seeker(n: int) -> None:
        client = ApiActions(storage_app.test_client())
        barrier.wait()
        text = f"racing message {n}"
        outcomes.append((text, client.send(token, session_id, text).status_code))

    threads = [threading.Thread(target=seeker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert {status for _, status in outcomes} <= {201, 409}
    stored = _messages(storage_app, session_id)
    stored_texts = {m.content for m in stored if m.role == "user"}
    assert stored_texts == {text for text, status in outcomes if status == 201}
    for message in (m for m in stored if m.role == "user"):
        replies = [m for m in stored if m.reply_to_id == message.id]
        assert [r.status for r in replies] == ["complete"]
    assert not _replying(storage_app, session_id)
