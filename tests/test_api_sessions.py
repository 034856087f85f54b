"""The sessions resource: listing, creating, reading, changing, deleting, and
nobody else's session ever showing."""

from __future__ import annotations

import pytest

from coach.storage.database import database
from coach.storage.models import Message


def test_create_and_read_a_session(client, api):
    token = api.guest()
    response = client.post("/api/v1/sessions", headers=api.headers(token))
    assert response.status_code == 201
    created = response.json
    assert {"id", "title", "stage", "shared", "flags", "created_at"} <= set(created)
    assert created["stage"] == "emotions"
    assert created["shared"] is False
    shown = api.session(token, created["id"])
    assert shown["messages"] == []


def test_sessions_are_listed_newest_first_and_paginated(client, api):
    token = api.guest()
    ids = [api.new_session(token) for _ in range(5)]
    first = client.get("/api/v1/sessions?per_page=2", headers=api.headers(token)).json
    second = client.get("/api/v1/sessions?per_page=2&page=2", headers=api.headers(token)).json
    assert first["total"] == 5
    assert [s["id"] for s in first["items"]] == ids[::-1][:2]
    assert [s["id"] for s in second["items"]] == ids[::-1][2:4]


@pytest.mark.parametrize("query", ["page=0", "per_page=0", "per_page=101", "page=x"])
def test_bad_pagination_is_a_400(client, api, query):
    token = api.guest()
    response = client.get(f"/api/v1/sessions?{query}", headers=api.headers(token))
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        ({"title": "My rejection from Acme"}, "title", "My rejection from Acme"),
        ({"stage": "resilience"}, "stage", "resilience"),
        ({"shared": True}, "shared", True),
    ],
)
def test_patch_changes_a_field(client, api, change, field, value):
    token = api.guest()
    session_id = api.new_session(token)
    response = client.patch(
        f"/api/v1/sessions/{session_id}", headers=api.headers(token), json=change
    )
    assert response.status_code == 200
    assert response.json[field] == value
    assert api.session(token, session_id)[field] == value


@pytest.mark.parametrize(
    "change",
    [
        {"stage": "feelings"},
        {"shared": "yes"},
        {"title": ""},
        {"title": "x" * 201},
        {"owner_id": 5},
        {},
    ],
)
def test_patch_refuses_bad_changes(client, api, change):
    token = api.guest()
    session_id = api.new_session(token)
    response = client.patch(
        f"/api/v1/sessions/{session_id}", headers=api.headers(token), json=change
    )
    assert response.status_code == 400
    assert response.json["error"]["message"]


def test_delete_removes_the_session_and_its_messages(app, client, api):
    token = api.guest()
    session_id = api.new_session(token)
    assert api.send(token, session_id, "I feel flat about it").status_code == 201
    response = client.delete(f"/api/v1/sessions/{session_id}", headers=api.headers(token))
    assert response.status_code == 204
    gone = client.get(f"/api/v1/sessions/{session_id}", headers=api.headers(token))
    assert gone.status_code == 404
    with database(app).make_session() as db:
        remaining = db.scalars(Message.in_session(session_id)).all()
    assert remaining == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "", None),
        ("patch", "", {"title": "mine now"}),
        ("delete", "", None),
        ("post", "/messages", {"content": "hello"}),
        ("post", "/retry", None),
    ],
)
def test_another_users_session_is_a_404(client, api, method, path, body):
    owner = api.guest()
    session_id = api.new_session(owner)
    api.send(owner, session_id, "I feel let down")
    intruder = api.guest()
    response = getattr(client, method)(
        f"/api/v1/sessions/{session_id}{path}", headers=api.headers(intruder), json=body
    )
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    # And the owner's session is untouched.
    shown = api.session(owner, session_id)
    assert len(shown["messages"]) == 2
    assert shown["title"] != "mine now"


def test_a_missing_session_is_a_404_in_json(client, api):
    token = api.guest()
    response = client.get("/api/v1/sessions/99999", headers=api.headers(token))
    assert response.status_code == 404
    assert response.is_json
