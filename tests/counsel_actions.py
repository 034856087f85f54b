"""What the counselor review tests do, as one-liners: users with a role and a token,
a seeker's session shared or not, a flagged one, and the audit log counted."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from coach.storage.database import database
from coach.storage.models import AuditEntry
from coach.web.auth import create_user
from tests.conftest import ApiActions

PASSWORD = "a long enough password"
CRISIS = "honestly sometimes I think everyone would be better off without me"


def make_user(app: Flask, email: str, role: str) -> None:
    with database(app).make_session() as db:
        create_user(db, email, PASSWORD, role)


def login(api: ApiActions, email: str) -> str:
    response = api.client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.json
    token: str = response.json["token"]  # type: ignore[index]
    return token


def csrf_token(client: FlaskClient) -> str:
    client.get("/login")
    with client.session_transaction() as cookie:
        token: str = cookie["csrf_token"]
        return token


def browser_login(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the login page, as a browser does: the cookie session."""
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )


def share(api: ApiActions, token: str, session_id: int, shared: bool = True) -> Any:
    response = api.client.patch(
        f"/api/v1/sessions/{session_id}", headers=api.headers(token), json={"shared": shared}
    )
    assert response.status_code == 200, response.json
    return response.json


def audit_count(app: Flask, action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    with database(app).make_session() as db:
        return db.scalar(query) or 0


class Cast:
    """Seeker A (who owns the sessions), seeker B, a counselor and an admin, with
    tokens; A's sessions: one shared, one not."""

    def __init__(self, app: Flask, api: ApiActions) -> None:
        self.app, self.api = app, api
        make_user(app, "counselor@example.org", "counselor")
        make_user(app, "admin@example.org", "admin")
        self.seeker_a = api.guest()
        self.seeker_b = api.guest()
        self.counselor = login(api, "counselor@example.org")
        self.admin = login(api, "admin@example.org")
        self.shared_id = api.new_session(self.seeker_a)
        api.send(self.seeker_a, self.shared_id, "I did not get the job after the second interview")
        share(api, self.seeker_a, self.shared_id)
        self.unshared_id = api.new_session(self.seeker_a)
        api.send(self.seeker_a, self.unshared_id, "This one stays private to me")
        self.missing_id = self.unshared_id + 1000

    def tokens(self) -> dict[str, str | None]:
        return {
            "seeker_a": self.seeker_a,
            "seeker_b": self.seeker_b,
            "counselor": self.counselor,
            "admin": self.admin,
            "anonymous": None,
        }

    def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        token = self.tokens()[who]
        headers = {} if token is None else self.api.headers(token)
        return self.api.client.open(path, method=method, headers=headers, json=body)
