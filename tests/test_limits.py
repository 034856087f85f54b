"""Rate limits count who the caller really is: a verified user, else the address.
A made-up or respelled `Authorization` header never buys a fresh count, and a
login costs the same whether or not the email exists."""

from __future__ import annotations

import statistics
import threading
import time

import pytest
from flask import Flask

from coach.storage.database import database
from coach.web.auth import create_user
from tests.conftest import AppFactory


@pytest.fixture
def limited(app_factory: AppFactory) -> Flask:
    return app_factory(
        RATELIMIT_ENABLED=True,
        COACH_GUEST_LIMIT="3 per hour",
        COACH_LOGIN_LIMIT="4 per minute",
        COACH_RATE_LIMIT="2 per minute",
    )


def test_made_up_bearer_headers_do_not_escape_the_login_limit(limited: Flask) -> None:
    client = limited.test_client()
    statuses = [
        client.post(
            "/api/v1/auth/login",
            headers={"Authorization": f"Bearer made-up-{n}"},
            json={"email": "someone@example.com", "password": f"guess number {n}"},
        ).status_code
        for n in range(6)
    ]
    assert statuses[:4] == [401] * 4
    assert statuses[4:] == [429, 429]


def test_guests_are_counted_per_address_through_the_api_and_the_start_page(
    limited: Flask,
) -> None:
    client = limited.test_client()
    api = [
        client.post(
            "/api/v1/auth/guest", headers={"Authorization": f"Bearer made-up-{n}"}
        ).status_code
        for n in range(2)
    ]
    page = limited.test_client()
    page.get("/")  # the start page's form needs the cookie's CSRF token
    with page.session_transaction() as cookie:
        csrf = cookie.get("csrf_token", "")
    started = page.post("/start", data={"csrf_token": csrf}).status_code
    over = client.post("/api/v1/auth/guest").status_code
    assert api == [201, 201]
    assert started == 303
    assert over == 429


@pytest.mark.parametrize("scheme", ["bearer ", "BEARER ", "Bearer  "])
def test_a_respelled_token_counts_against_the_same_seeker(limited: Flask, scheme: str) -> None:
    client = limited.test_client()
    token = client.post("/api/v1/auth/guest").json["token"]
    session_id = client.post("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}).json[
        "id"
    ]
    spellings = [f"Bearer {token}", f"{scheme}{token}", f"Bearer {token}"]
    statuses = [
        client.post(
            f"/api/v1/sessions/{session_id}/messages",
            headers={"Authorization": header},
            json={"content": "They went with someone else"},
        ).status_code
        for header in spellings
    ]
    assert statuses[2] == 429, statuses


def _median_login_seconds(client: object, email: str) -> float:
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        response = client.post(  # type: ignore[attr-defined]
            "/api/v1/auth/login", json={"email": email, "password": "not the password"}
        )
        timings.append(time.perf_counter() - started)
        assert response.status_code == 401
    return statistics.median(timings)


# The stand-in hash must cost what a real one does: at full cost the hash is most
# of a login's time.
@pytest.mark.full_password_cost
def test_login_takes_as_long_for_an_unknown_email_as_for_a_known_one(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    with database(app).make_session() as db, app.app_context():
        create_user(db, "known@example.com", "a long enough password", "seeker")
    client = app.test_client()
    _median_login_seconds(client, "warm@example.com")  # the stand-in hash is made once
    known = _median_login_seconds(client, "known@example.com")
    unknown = _median_login_seconds(client, "unknown@example.com")
    print(f"login: known email {known * 1000:.1f} ms, unknown email {unknown * 1000:.1f} ms")
    assert 0.5 < unknown / known < 2.0


def test_in_memory_counts_start_no_thread_run_out_and_are_swept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hit starts no thread (starting one waits for the GIL, which a busy worker
    hardly lets go); a count that has run out starts again, and the sweep frees it."""
    from limits import parse
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    from coach.web import limits

    storage = storage_from_string(limits.IN_MEMORY)
    assert isinstance(storage, limits.SweptMemoryStorage)
    limiter = FixedWindowRateLimiter(storage)
    one_a_second = parse("1 per second")
    threads_before = threading.active_count()
    assert limiter.hit(one_a_second, "seeker", "1")
    assert not limiter.hit(one_a_second, "seeker", "1")
    assert threading.active_count() <= threads_before
    time.sleep(1.05)
    assert limiter.hit(one_a_second, "seeker", "1")  # its window ran out
    assert limiter.hit(one_a_second, "seeker", "2")
    time.sleep(1.05)
    monkeypatch.setattr(limits, "SWEEP_SECONDS", 0.0)
    limiter.hit(one_a_second, "seeker", "3")  # this hit sweeps the counts that ran out
    # Keys read "LIMITER/<caller>/<key>/<limit>": only the count just hit is left.
    assert [key.split("/")[2] for key in storage.storage] == ["3"]


def test_the_app_counts_in_memory_without_a_thread_a_hit(limited: Flask) -> None:
    client = limited.test_client()
    token = client.post("/api/v1/auth/guest").get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    session_id = client.post("/api/v1/sessions", headers=headers).get_json()["id"]

    def send() -> int:
        path = f"/api/v1/sessions/{session_id}/messages"
        return client.post(path, json={"content": "Hi"}, headers=headers).status_code

    assert send() == 201  # the first turn starts the threads a reply keeps (its mark's keeper)
    threads_before = threading.active_count()
    assert [send(), send()] == [201, 429]
    assert threading.active_count() <= threads_before
