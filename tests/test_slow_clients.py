"""No transaction waits on a client: clients that send their headers and then hold
back the body they announced must not lock other seekers out (on SQLite the write
lock, on PostgreSQL the pool's connections), and a pool with no connection to spare
is a 503 like the other busy cases, not a 500. Over real HTTP to a served app."""

from __future__ import annotations

import functools
import http.client
import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from coach.storage import database as database_module
from coach.storage.database import database
from tests.browser.actions import serve_app
from tests.conftest import AppFactory

# More stalled clients than PostgreSQL's pool holds (5, and 10 more on demand).
STALLED_CLIENTS = 16
ANNOUNCED_BODY = b'{"title": "Held back"}'


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, app_factory: AppFactory) -> Iterator[str]:
    overrides: dict[str, Any] = {}
    if request.param == "postgresql":
        overrides["COACH_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    yield from serve_app(app_factory(**overrides))


def _call(url: str, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=20)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(
            method, path, body=None if body is None else json.dumps(body), headers=headers
        )
        answer = connection.getresponse()
        data = answer.read()
        return answer.status, json.loads(data) if data else None
    finally:
        connection.close()


def _guest_with_session(url: str) -> tuple[str, int]:
    status, guest = _call(url, "POST", "/api/v1/auth/guest")
    assert status == 201, guest
    status, created = _call(url, "POST", "/api/v1/sessions", guest["token"], {})
    assert status == 201, created
    return guest["token"], created["id"]


def _stall(url: str, method: str, path: str, token: str) -> socket.socket:
    """Send a request's headers, announcing a body that is never sent."""
    parts = urlsplit(url)
    stalled = socket.create_connection((parts.hostname, parts.port), timeout=20)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(ANNOUNCED_BODY)}\r\n\r\n"
    )
    stalled.sendall(head.encode())
    return stalled


def test_clients_holding_back_their_bodies_do_not_stop_another_seekers_turn(served: str) -> None:
    slow_token, slow_session = _guest_with_session(served)
    token, session_id = _guest_with_session(served)
    paths = [
        ("PATCH", f"/api/v1/sessions/{slow_session}"),
        ("POST", f"/api/v1/sessions/{slow_session}/messages"),
        ("POST", "/api/v1/sessions"),
    ]
    stalled = [_stall(served, *paths[n % len(paths)], slow_token) for n in range(STALLED_CLIENTS)]
    try:
        time.sleep(0.5)  # every stalled request is in the server, waiting for its body
        started = time.monotonic()
        status, turn = _call(
            served,
            "POST",
            f"/api/v1/sessions/{session_id}/messages",
            token,
            {"content": "The final round went badly and I feel flat."},
        )
        took = time.monotonic() - started
        assert status == 201, turn
        assert turn["reply"]["status"] == "complete"
        # Not after a busy timeout or a pool timeout: at once.
        assert took < 3, f"the turn waited {took:.1f} s behind the stalled clients"
        status, renamed = _call(
            served, "PATCH", f"/api/v1/sessions/{session_id}", token, {"title": "Mine"}
        )
        assert (status, renamed["title"]) == (200, "Mine")
        # A stalled client that finally sends its body is answered as usual.
        first = stalled[0]
        first.sendall(ANNOUNCED_BODY)
        assert first.recv(64).startswith(b"HTTP/1.1 200")
    finally:
        for client in stalled:
            client.close()


def test_a_pool_with_no_free_connection_is_a_503(
    app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_pool = functools.partial(
        database_module.create_engine, pool_size=1, max_overflow=0, pool_timeout=0.2
    )
    monkeypatch.setattr(database_module, "create_engine", small_pool)
    app: Flask = app_factory()
    client = app.test_client()
    token = client.post("/api/v1/auth/guest").json["token"]
    with database(app).engine.connect():  # the pool's only connection, held
        response = client.get("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"})
        created = client.post("/api/v1/auth/guest")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_busy"
    assert created.status_code == 503
    assert (
        client.get("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )


def test_authenticating_and_refusing_a_bad_body_wait_for_no_writer(
    app_factory: AppFactory,
) -> None:
    """While another process holds SQLite's write lock, a request whose body is
    refused is answered at once: finding the caller only reads, and the body is
    checked before the view's transaction begins."""
    app = app_factory()
    client = app.test_client()
    token = client.post("/api/v1/auth/guest").json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    session_id = client.post("/api/v1/sessions", headers=headers).json["id"]
    writer = sqlite3.connect(make_url(app.config["COACH_DATABASE_URL"]).database, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        refused = client.patch(f"/api/v1/sessions/{session_id}", headers=headers, json={"title": 5})
        listed = client.get("/api/v1/sessions", headers=headers)
        took = time.monotonic() - started
    finally:
        writer.rollback()
        writer.close()
    assert (refused.status_code, refused.json["error"]["code"]) == (400, "invalid_input")
    assert listed.status_code == 200
    assert took < 1, f"waited {took:.1f} s for the writer"
