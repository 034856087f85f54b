"""Two app instances behind one load balancer: two gunicorn servers started with
the shipped configuration on one fresh PostgreSQL database and the one Redis.
Whichever instance a request reaches, the conversation, the browser's cookie and
the rate limits are the same."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.served import Browser, Served, migrate, serve

REDIS_URL = os.environ.get("COACH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
MESSAGES_PER_MINUTE = 3
METRICS_TOKEN = "two-instance-scraper"


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} must answer in CI: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture
def instances(tmp_path: Path, postgres_url: str, redis_url: str) -> Iterator[tuple[Served, Served]]:
    migrate(postgres_url)
    settings = {
        "COACH_DATABASE_URL": postgres_url,
        "COACH_REDIS_URL": redis_url,
        "COACH_PROVIDER": "guided",
        "COACH_RATE_LIMIT": f"{MESSAGES_PER_MINUTE} per minute",
        "COACH_METRICS_TOKEN": METRICS_TOKEN,
    }
    # Both instances count under one prefix of their own, apart from any other
    # test (or server) that uses the same Redis.
    prefix = f"coach-test-{uuid.uuid4().hex[:12]}"
    started: list[Served] = []
    try:
        for name in ("a", "b"):
            instance = tmp_path / name / "instance"
            instance.mkdir(parents=True)
            (instance / "config.py").write_text(f"RATELIMIT_KEY_PREFIX = {prefix!r}\n")
            started.append(serve(tmp_path / name, settings))
        yield started[0], started[1]
    finally:
        for served in started:
            served.stop()
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_conversations_cookies_and_limits_hold_across_two_instances(
    instances: tuple[Served, Served],
) -> None:
    """One test, so that the servers start once: each takes seconds."""
    a, b = instances
    for served in (a, b):
        status, _, body = served.request("GET", "/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"]["redis"] == "ok"

    status, _, body = a.request("POST", "/api/v1/auth/guest")
    assert status == 201, body
    token = json.loads(body)["token"]
    status, _, body = a.request("POST", "/api/v1/sessions", headers=_bearer(token))
    assert status == 201, body
    session_id = json.loads(body)["id"]
    messages = f"/api/v1/sessions/{session_id}/messages"

    first = "I was turned down after the second interview and I feel flat."
    status, _, body = a.request("POST", messages, {"content": first}, _bearer(token))
    assert status == 201, body
    # B sees the conversation A stored, and carries it on.
    status, _, body = b.request("GET", f"/api/v1/sessions/{session_id}", headers=_bearer(token))
    assert status == 200, body
    assert json.loads(body)["messages"][0]["content"] == first
    status, _, body = b.request("POST", messages, {"content": "Mostly tired."}, _bearer(token))
    assert status == 201, body
    status, _, body = a.request("GET", f"/api/v1/sessions/{session_id}", headers=_bearer(token))
    shown = json.loads(body)["messages"]
    assert [m["role"] for m in shown] == ["user", "assistant"] * 2
    assert shown[2]["content"] == "Mostly tired."

    # One count of messages over both instances: the third is allowed, the fourth not.
    status, _, body = a.request("POST", messages, {"content": "Still here."}, _bearer(token))
    assert status == 201, body
    status, _, body = b.request("POST", messages, {"content": "And again."}, _bearer(token))
    assert status == 429, body
    assert json.loads(body)["error"]["code"] == "rate_limited"

    # Each instance's /metrics adds up its two workers, whichever answers the scrape.
    assert _message_turns(a) == 2
    assert _message_turns(b) == 1

    _a_browser_cookie_from_one_works_on_the_other(a, b)


def _message_turns(served: Served) -> float:
    status, _, body = served.request(
        "GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert status == 200, body
    for line in body.splitlines():
        if line.startswith('coach_turns_total{kind="message"}'):
            return float(line.rpartition(" ")[2])
    return 0.0


def _a_browser_cookie_from_one_works_on_the_other(a: Served, b: Served) -> None:
    browser = Browser()
    status, _, _ = browser.request(a, "GET", "/")
    assert status == 200 and browser.cookie and browser.csrf
    status, headers, body = browser.request(a, "POST", "/start", form=f"csrf_token={browser.csrf}")
    assert status == 303, body
    chat_path = headers["Location"].removeprefix(f"http://127.0.0.1:{a.port}")
    session_id = int(chat_path.rsplit("/", 1)[1])

    # The same cookie (and its CSRF token) on the other instance.
    status, _, body = browser.request(b, "GET", chat_path)
    assert status == 200, body
    status, _, body = browser.request(
        b, "POST", f"/api/v1/sessions/{session_id}/messages", {"content": "Hello from B."}
    )
    assert status == 201, body
    status, _, body = browser.request(a, "GET", f"/api/v1/sessions/{session_id}")
    assert status == 200, body
    assert json.loads(body)["messages"][0]["content"] == "Hello from B."
