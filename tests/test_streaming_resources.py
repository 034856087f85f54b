"""What a streamed reply holds, served as it ships (gunicorn, `gunicorn.conf.py`):

- a client that drops its stream stops the reply at once, not at the end of the
  model's answer: the partial is stored, the request to the model is closed, and
  the reply is counted as `client_gone`;
- no database connection stays checked out (`coach_database_connections_in_use`
  comes back to 0, and no checkout lasts as long as the model's reply);
- the pool's connections are counted as they leave and return, in process too.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from coach import create_app
from coach.coaching.reply import Reply, ReplyEvent
from coach.metrics import metrics
from coach.storage.database import short_transaction
from coach.web.streaming import client_watch, encode_event, event_data
from tests.served import Served, serve_with_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from fake_server import FakeServer, Pace

METRICS_TOKEN = "resources-metrics-token"
# A reply of 20 s: a test that sees the model's stream closed within a second saw
# the coach close it, not the model finish.
SLOW = Pace(first_token_ms=100, tokens_per_second=20, reply_tokens=400)
QUICK = Pace(first_token_ms=100, tokens_per_second=200, reply_tokens=20)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeServer]:
    with FakeServer(Pace(**vars(SLOW))) as model:
        yield model


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, fake: FakeServer) -> Iterator[Served]:
    server = serve_with_model(
        tmp_path_factory.mktemp("resources"),
        fake.url,
        {"COACH_MODEL_ATTEMPTS": "1", "COACH_METRICS_TOKEN": METRICS_TOKEN},
    )
    yield server
    server.stop()


def _seeker(served: Served) -> tuple[dict[str, str], int]:
    status, _, body = served.request("POST", "/api/v1/auth/guest")
    assert status == 201, body
    headers = {"Authorization": f"Bearer {json.loads(body)['token']}"}
    status, _, body = served.request("POST", "/api/v1/sessions", headers=headers)
    assert status == 201, body
    return headers, json.loads(body)["id"]


def _metric(served: Served, name: str) -> float:
    status, _, body = served.request(
        "GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert status == 200
    return sum(
        float(line.rpartition(" ")[2])
        for line in body.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


def _wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def test_a_dropped_stream_stops_the_reply_and_closes_the_model_request(
    served: Served, fake: FakeServer
) -> None:
    headers, session_id = _seeker(served)
    fake.reset()
    fake.pace = SLOW
    connection = served.connection(timeout=30)
    connection.request(
        "POST",
        f"/api/v1/sessions/{session_id}/messages",
        body=json.dumps({"content": "They chose someone else. It stings."}),
        headers={**headers, "Accept": "text/event-stream", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    assert response.status == 201
    deltas = 0
    while deltas < 2:
        line = response.readline()
        assert line, "the stream ended before two deltas"
        deltas += line.startswith(b"event: delta")
    assert fake.stats()["open_streams"] == 1
    connection.close()
    dropped = time.monotonic()

    # Seen from the model's side: its stream abandoned long before it would end.
    assert _wait_for(lambda: fake.stats()["abandoned_at"], 2.0)
    assert fake.stats()["abandoned_at"][0] - dropped < 1.0
    assert fake.stats()["open_streams"] == 0

    def last_message() -> dict[str, object]:
        status, _, body = served.request("GET", f"/api/v1/sessions/{session_id}", headers=headers)
        assert status == 200
        messages: list[dict[str, object]] = json.loads(body)["messages"]
        return messages[-1]

    assert _wait_for(lambda: last_message()["role"] == "assistant", 2.0)
    reply = last_message()
    assert reply["status"] == "partial"
    assert str(reply["content"]).startswith("Thank you for telling me that.")
    assert len(str(reply["content"])) < 400
    assert _metric(served, 'coach_replies_total{provider="openai",status="client_gone"}') == 1
    # Nothing is left checked out, and no checkout lasted as long as a model call.
    assert _metric(served, "coach_database_connections_in_use") == 0
    held_long = _metric(served, "coach_database_connection_hold_seconds_count") - _metric(
        served, 'coach_database_connection_hold_seconds_bucket{le="0.5"}'
    )
    assert held_long == 0


def test_a_finished_stream_leaves_no_connection_checked_out(
    served: Served, fake: FakeServer
) -> None:
    headers, session_id = _seeker(served)
    before = _metric(served, "coach_database_connection_hold_seconds_count")
    fake.pace = QUICK
    status, _, body = served.request(
        "POST",
        f"/api/v1/sessions/{session_id}/messages",
        body={"content": "They said no after the second interview."},
        headers={**headers, "Accept": "text/event-stream"},
        timeout=60,
    )
    assert status == 201
    assert "event: done" in body
    assert re.findall(r"event: delta", body)
    # The reply's background work (the record's reading) may still be running.
    assert _wait_for(lambda: _metric(served, "coach_database_connections_in_use") == 0, 3.0)
    assert _metric(served, "coach_database_connection_hold_seconds_count") > before


def test_the_pool_counts_connections_as_they_leave_and_return(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "COACH_DATABASE_URL": f"sqlite:///{tmp_path / 'pool.db'}",
        }
    )
    counted = metrics(app)
    in_use = counted.registry.get_sample_value
    assert in_use("coach_database_connections_in_use") == 0
    with short_transaction(app, read_only=True) as db:
        db.connection()
        assert in_use("coach_database_connections_in_use") == 1
    assert in_use("coach_database_connections_in_use") == 0
    assert in_use("coach_database_connection_hold_seconds_count") == 1


def test_a_delta_is_encoded_as_its_schema_says() -> None:
    event = ReplyEvent("delta", text='They said "no" \u2014 twice.\n')
    encoded = encode_event(cast(Reply, None), event)
    assert encoded == f"event: delta\ndata: {json.dumps(event_data(event))}\n\n"


def test_the_client_watch_sees_a_close_and_ignores_a_client_that_talks() -> None:
    watch = client_watch()
    closing_server, closing_client = socket.socketpair()
    talking_server, talking_client = socket.socketpair()
    gone: list[str] = []
    with closing_server, talking_server:
        watch.watch(closing_server, lambda: gone.append("closed"))
        watch.watch(talking_server, lambda: gone.append("talked"))
        talking_client.sendall(b"GET / HTTP/1.1\r\n")
        closing_client.close()
        assert _wait_for(lambda: gone == ["closed"], 2.0)
        time.sleep(0.1)
        assert gone == ["closed"]
        talking_client.close()
        time.sleep(0.2)
        # No longer watched once it sent bytes: its close is not taken for a stream's.
        assert gone == ["closed"]
