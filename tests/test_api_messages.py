"""Chat turns over the API in guided mode: validation, storage first, JSON and SSE,
retry."""

from __future__ import annotations

import pytest

from coach.storage.database import database
from coach.storage.models import Message
from tests.openapi_check import parse_events


def test_a_turn_stores_the_message_and_the_reply(api):
    token = api.guest()
    session_id = api.new_session(token)
    response = api.send(token, session_id, "I feel gutted, I really wanted this job.")
    assert response.status_code == 201
    body = response.json
    assert body["user_message"]["content"] == "I feel gutted, I really wanted this job."
    assert body["user_message"]["role"] == "user"
    assert body["reply"]["role"] == "assistant"
    assert body["reply"]["status"] == "complete"
    # Reflected in the coach's words, not given back, and checked with the seeker.
    assert "disappointment" in body["reply"]["content"]
    assert "I feel gutted" not in body["reply"]["content"]
    assert body["reply"]["choices"] == ["Yes, that's right", "Not quite"]
    messages = api.session(token, session_id)["messages"]
    assert [m["id"] for m in messages] == [body["user_message"]["id"], body["reply"]["id"]]
    assert {"id", "role", "content", "stage", "status", "created_at"} <= set(messages[0])


def test_the_first_message_names_the_session(api):
    token = api.guest()
    session_id = api.new_session(token)
    api.send(token, session_id, "Turned down by Acme after the second round again")
    assert api.session(token, session_id)["title"].startswith("Turned down by Acme")


def test_streaming_sends_message_deltas_then_done(api):
    token = api.guest()
    session_id = api.new_session(token)
    events = api.send_streaming(token, session_id, "I am so disappointed.")
    names = [name for name, _ in events]
    assert names[0] == "message"
    assert names[-1] == "done"
    assert set(names[1:-1]) == {"delta"}
    assert len(names) > 3
    streamed = "".join(data["text"] for name, data in events if name == "delta")
    reply = events[-1][1]["reply"]
    assert reply["content"] == streamed
    assert events[0][1]["message"]["content"] == "I am so disappointed."
    stored = api.session(token, session_id)["messages"]
    assert stored[-1]["content"] == streamed


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"content": ""}, 400, "empty_message"),
        ({"content": "   \n "}, 400, "empty_message"),
        ({"content": 42}, 400, "invalid_input"),
        ({"content": ["a list"]}, 400, "invalid_input"),
        ({"content": None}, 400, "invalid_input"),
        ({}, 400, "invalid_input"),
        ({"content": "x" * 4001}, 413, "message_too_long"),
    ],
)
def test_bad_messages_are_refused_clearly_and_not_stored(client, api, payload, status, code):
    token = api.guest()
    session_id = api.new_session(token)
    response = client.post(
        f"/api/v1/sessions/{session_id}/messages", headers=api.headers(token), json=payload
    )
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert api.session(token, session_id)["messages"] == []


def test_a_message_at_the_limit_is_accepted(api):
    token = api.guest()
    session_id = api.new_session(token)
    assert api.send(token, session_id, "x" * 4000).status_code == 201


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        ('{"content": "' + "x" * 70_000 + '"}', "application/json", 413, "too_large"),
        ("content=hello", "application/x-www-form-urlencoded", 400, "invalid_json"),
        ("{not json", "application/json", 400, "invalid_json"),
    ],
)
def test_bodies_that_are_not_a_message_are_refused(client, api, data, content_type, status, code):
    token = api.guest()
    session_id = api.new_session(token)
    response = client.post(
        f"/api/v1/sessions/{session_id}/messages",
        headers=api.headers(token),
        data=data,
        content_type=content_type,
    )
    assert response.status_code == status
    assert response.json["error"]["code"] == code


def test_retry_refuses_when_the_last_reply_is_complete(client, api):
    token = api.guest()
    session_id = api.new_session(token)
    response = client.post(f"/api/v1/sessions/{session_id}/retry", headers=api.headers(token))
    assert response.status_code == 409
    api.send(token, session_id, "I feel fine, honestly")
    response = client.post(f"/api/v1/sessions/{session_id}/retry", headers=api.headers(token))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "nothing_to_retry"


@pytest.mark.parametrize("broken_status", ["failed", "partial"])
def test_retry_answers_the_last_message_again(app, client, api, broken_status):
    token = api.guest()
    session_id = api.new_session(token)
    first = api.send(token, session_id, "I feel let down").json
    with database(app).make_session() as db, db.begin():
        db.get(Message, first["reply"]["id"]).status = broken_status
    response = client.post(f"/api/v1/sessions/{session_id}/retry", headers=api.headers(token))
    assert response.status_code == 201
    assert response.json["user_message"]["id"] == first["user_message"]["id"]
    messages = api.session(token, session_id)["messages"]
    assert [m["status"] for m in messages] == ["complete", broken_status, "complete"]
    assert messages[-1]["content"] == response.json["reply"]["content"]


def test_retry_streams_too(app, client, api):
    token = api.guest()
    session_id = api.new_session(token)
    first = api.send(token, session_id, "I feel angry").json
    with database(app).make_session() as db, db.begin():
        db.get(Message, first["reply"]["id"]).status = "failed"
    response = client.post(
        f"/api/v1/sessions/{session_id}/retry",
        headers=api.headers(token, Accept="text/event-stream"),
    )
    events = parse_events(response.get_data(as_text=True))
    assert events[0][0] == "message"
    assert events[0][1]["message"]["id"] == first["user_message"]["id"]
    assert events[-1][0] == "done"


def test_rate_limit_answers_429_in_json(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, COACH_RATE_LIMIT="2 per minute")
    client = app.test_client()
    token = client.post("/api/v1/auth/guest").json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    session_id = client.post("/api/v1/sessions", headers=headers).json["id"]
    statuses = [
        client.post(
            f"/api/v1/sessions/{session_id}/messages", headers=headers, json={"content": "hi"}
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
    last = client.post(
        f"/api/v1/sessions/{session_id}/messages", headers=headers, json={"content": "hi"}
    )
    assert last.json["error"]["code"] == "rate_limited"
