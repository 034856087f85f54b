"""Guest creation, login and bearer tokens."""

from __future__ import annotations

import pytest

from coach.storage.database import database
from coach.web.auth import create_user


def test_guest_gets_a_token_that_works(client, api):
    response = client.post("/api/v1/auth/guest")
    assert response.status_code == 201
    body = response.json
    assert body["user"]["is_guest"] is True
    assert body["user"]["role"] == "seeker"
    listing = client.get("/api/v1/sessions", headers=api.headers(body["token"]))
    assert listing.status_code == 200
    assert listing.json["items"] == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-real-token"}, {"Authorization": "Basic abc"}],
)
def test_sessions_need_a_valid_caller(client, headers):
    response = client.get("/api/v1/sessions", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] in {"not_authenticated", "bad_token"}


@pytest.fixture
def counselor(app):
    with database(app).make_session() as db:
        create_user(db, "Counsel@Example.org", "a long enough password", "counselor")


def test_login_with_the_right_password(client, counselor):
    response = client.post(
        "/api/v1/auth/login",
        json={"email": "counsel@example.org", "password": "a long enough password"},
    )
    assert response.status_code == 200
    assert response.json["user"]["role"] == "counselor"
    assert response.json["token"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"email": "counsel@example.org", "password": "wrong password!"}, 401),
        ({"email": "nobody@example.org", "password": "a long enough password"}, 401),
        ({"email": "counsel@example.org"}, 400),
        ({"email": 3, "password": []}, 400),
    ],
)
def test_login_refuses_bad_credentials(client, counselor, body, status):
    response = client.post("/api/v1/auth/login", json=body)
    assert response.status_code == status
    assert set(response.json["error"]) == {"code", "message"}


def test_login_needs_a_json_object(client):
    response = client.post("/api/v1/auth/login", data="not json", content_type="text/plain")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_json"


def test_a_revoked_token_stops_working_and_only_that_token(client, counselor):
    credentials = {"email": "counsel@example.org", "password": "a long enough password"}
    first = client.post("/api/v1/auth/login", json=credentials).json["token"]
    second = client.post("/api/v1/auth/login", json=credentials).json["token"]
    revoked = client.delete("/api/v1/auth/token", headers={"Authorization": f"Bearer {first}"})
    assert revoked.status_code == 204
    assert revoked.get_data() == b""
    refused = client.get("/api/v1/sessions", headers={"Authorization": f"Bearer {first}"})
    assert (refused.status_code, refused.json["error"]["code"]) == (401, "bad_token")
    kept = client.get("/api/v1/sessions", headers={"Authorization": f"Bearer {second}"})
    assert kept.status_code == 200


def test_revoking_needs_a_caller(client):
    assert client.delete("/api/v1/auth/token").status_code == 401
