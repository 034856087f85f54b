"""Replies end truthfully over real HTTP, with the fake model writing slowly:

- a reply the seeker stops (`POST .../cancel`) is stored as partial, a retry is
  offered, and the request to the model is closed, not left to run;
- a gunicorn worker told to stop (SIGTERM) stores the reply it could not finish
  as partial before it is killed;
- a worker killed outright (`kill -9`) leaves a conversation that can be retried
  as soon as its reply mark expires, seconds later.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from coach.cli import EmbeddedServer
from coach.coaching import reply_mark
from coach.guide.record import ReflectionRecord
from coach.storage.database import database
from coach.storage.models import CoachingSession, Message
from coach.web import shutdown
from tests.browser.actions import serve_app
from tests.conftest import API_KEY, AppFactory, base_config, make_openai_app, migrated_app
from tests.fake_model import FakeModel

EMPTY_RECORD = json.dumps(ReflectionRecord().model_dump(mode="json"))
# A reply far longer than any test waits for: it only ends when something stops it.
LONG_REPLY = [f"Part {n}. " for n in range(60)]
CHUNK_DELAY = 0.2


class Api:
    """A seeker's client over real HTTP (http.client), bearer-authenticated."""

    def __init__(self, url: str) -> None:
        self.netloc = urlsplit(url).netloc
        self.token = ""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        connection = http.client.HTTPConnection(self.netloc, timeout=30)
        try:
            connection.request(method, path, body=json.dumps(body or {}), headers=self._headers())
            answer = connection.getresponse()
            data = answer.read()
            return answer.status, json.loads(data) if data else None
        finally:
            connection.close()

    def start(self) -> int:
        """A new guest (this client's from now on) with a new session: its id."""
        status, guest = self.call("POST", "/api/v1/auth/guest")
        assert status == 201, guest
        self.token = guest["token"]
        status, created = self.call("POST", "/api/v1/sessions")
        assert status == 201, created
        return int(created["id"])

    def stream(self, session_id: int, content: str) -> Events:
        connection = http.client.HTTPConnection(self.netloc, timeout=30)
        connection.request(
            "POST",
            f"/api/v1/sessions/{session_id}/messages",
            body=json.dumps({"content": content}),
            headers=self._headers(Accept="text/event-stream"),
        )
        answer = connection.getresponse()
        assert answer.status == 201, answer.read()
        return Events(connection, answer)

    def _headers(self, **extra: str) -> dict[str, str]:
        headers = {"Content-Type": "application/json", **extra}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


class Events:
    """The SSE events of a streamed reply, read one at a time."""

    def __init__(self, connection: http.client.HTTPConnection, answer: Any) -> None:
        self.connection, self.answer = connection, answer

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        fields: dict[str, str] = {}
        try:
            for raw in self.answer:
                line = raw.decode().rstrip("\r\n")
                if line:
                    name, _, value = line.partition(": ")
                    fields[name] = value
                elif "event" in fields:
                    yield fields["event"], json.loads(fields["data"])
                    fields = {}
        except (ConnectionError, http.client.IncompleteRead):
            return  # the server went away mid-stream
        finally:
            self.connection.close()

    def until(self, wanted: str) -> list[tuple[str, Any]]:
        seen = []
        for name, data in self:
            seen.append((name, data))
            if name == wanted:
                return seen
        raise AssertionError(f"the stream ended without a {wanted!r} event: {seen}")


def _stored_replies(app: Flask, session_id: int) -> list[Message]:
    with database(app).make_session() as db:
        return list(db.scalars(Message.in_session(session_id).where(Message.role == "assistant")))


def _wait_for(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# Cancel through the API -----------------------------------------------------------


@pytest.fixture
def served(app_factory: AppFactory, fake_model: FakeModel) -> Iterator[tuple[Flask, Api]]:
    app = make_openai_app(app_factory, fake_model, COACH_MODEL_ATTEMPTS=1)
    for url in serve_app(app):
        yield app, Api(url)


def test_a_stopped_reply_is_kept_as_partial_and_its_model_request_is_closed(
    served: tuple[Flask, Api], fake_model: FakeModel
) -> None:
    app, api = served
    session_id = api.start()
    fake_model.enqueue_stream(LONG_REPLY, delay=CHUNK_DELAY)
    events = iter(api.stream(session_id, "The panel went quiet after my last answer."))
    taken = _take_until_delta(events)
    assert [name for name, _data in taken] == ["message", "delta"]

    status, body = api.call("POST", f"/api/v1/sessions/{session_id}/cancel")
    assert (status, body) == (202, {"cancelling": True})
    stopped = time.monotonic()
    rest = list(events)

    name, data = rest[-1]
    assert name == "error"
    assert (data["error"]["code"], data["retryable"]) == ("cancelled", True)
    kept = data["reply"]
    assert kept["status"] == "partial"
    shown = "".join(data["text"] for name, data in taken + rest if name == "delta")
    assert kept["content"] == shown.strip()
    assert kept["content"].startswith("Part 0.")
    assert "Part 59." not in kept["content"]
    # The stream to the model was closed soon after the cancel, long before its end.
    assert _wait_for(lambda: fake_model.abandoned_streams == 1, 5), "the model's stream ran on"
    assert time.monotonic() - stopped < 5

    [stored] = _stored_replies(app, session_id)
    assert (stored.status, stored.error, stored.content) == (
        "partial",
        "cancelled",
        kept["content"],
    )
    # Retry is offered, and answers the same message again.
    fake_model.enqueue_stream(["Let us take that again."])
    fake_model.enqueue_json(EMPTY_RECORD)
    status, turn = api.call("POST", f"/api/v1/sessions/{session_id}/retry")
    assert status == 201, turn
    assert (turn["reply"]["status"], turn["reply"]["content"]) == (
        "complete",
        "Let us take that again.",
    )
    asked = json.dumps(fake_model.reply_requests[-1].messages)
    assert "The panel went quiet after my last answer." in asked


def test_a_json_turn_sees_a_cancel_when_its_whole_answer_arrives_and_keeps_none_of_it(
    served: tuple[Flask, Api], fake_model: FakeModel
) -> None:
    app, api = served
    session_id = api.start()
    # The whole answer comes after 1.2 s; the cancel is sent well before that.
    fake_model.enqueue_stream(["A reply ", "nobody ", "sees."], delay=0.4)
    turn: dict[str, Any] = {}

    def send() -> None:
        turn["status"], turn["body"] = api.call(
            "POST", f"/api/v1/sessions/{session_id}/messages", {"content": "Still stings."}
        )

    sender = threading.Thread(target=send)
    sender.start()
    assert _wait_for(lambda: fake_model.reply_requests, 5)
    status, body = api.call("POST", f"/api/v1/sessions/{session_id}/cancel")
    assert (status, body) == (202, {"cancelling": True})
    sender.join(10)

    assert turn["status"] == 409
    assert turn["body"]["error"]["code"] == "cancelled"
    assert turn["body"]["user_message"]["content"] == "Still stings."
    assert _stored_replies(app, session_id) == []
    assert "sees" not in json.dumps(turn["body"])


def _take_until_delta(events: Iterator[tuple[str, Any]]) -> list[tuple[str, Any]]:
    taken = []
    for name, data in events:
        taken.append((name, data))
        if name == "delta":
            break
    return taken


def test_a_cancel_reaches_a_reply_written_by_another_process(
    app_factory: AppFactory, fake_model: FakeModel
) -> None:
    """Two apps on one database stand for two instances: the cancel lands on one,
    the reply is written by the other; the flag in the database carries it."""
    writer = make_openai_app(app_factory, fake_model, COACH_MODEL_ATTEMPTS=1)
    other = make_openai_app(app_factory, fake_model, COACH_MODEL_ATTEMPTS=1)
    fake_model.enqueue_stream(LONG_REPLY, delay=CHUNK_DELAY)
    for writer_url in serve_app(writer):
        for other_url in serve_app(other):
            api, elsewhere = Api(writer_url), Api(other_url)
            session_id = api.start()
            elsewhere.token = api.token
            events = iter(api.stream(session_id, "I keep replaying the interview."))
            _take_until_delta(events)
            status, _body = elsewhere.call("POST", f"/api/v1/sessions/{session_id}/cancel")
            assert status == 202
            name, data = list(events)[-1]
    assert (name, data["error"]["code"], data["reply"]["status"]) == (
        "error",
        "cancelled",
        "partial",
    )
    assert _wait_for(lambda: fake_model.abandoned_streams == 1, 5)


# Workers that stop, or die ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(database_url: str, fake_model: FakeModel, instance: Path) -> dict[str, str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("COACH_", "OPENAI_"))
    }
    environment |= {
        "COACH_INSTANCE_PATH": str(instance),
        "COACH_DATABASE_URL": database_url,
        "COACH_SECRET_KEY": "test-secret-key",
        "COACH_PROVIDER": "openai",
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": fake_model.url,
        "COACH_MODEL": "fake-model",
        "COACH_MODEL_ATTEMPTS": "1",
    }
    return environment


class Served:
    """A real server process (gunicorn, or `coach serve`) answering on `port`."""

    def __init__(self, command: list[str], environment: dict[str, str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    pytest.fail(f"the server did not start: {self.output()}")
                time.sleep(0.2)

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def output(self) -> str:
        if self.process.poll() is None or self.process.stdout is None:
            return ""
        return self.process.stdout.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    app = migrated_app(base_config(url))
    database(app).engine.dispose()
    return url


def test_coach_serve_stops_replies_before_its_workers_are_killed() -> None:
    server = EmbeddedServer(Flask(__name__), "127.0.0.1:0")
    assert server.cfg.post_worker_init is shutdown.post_worker_init


def test_a_worker_told_to_stop_stores_the_reply_it_cannot_finish(
    tmp_path: Path, database_url: str, fake_model: FakeModel
) -> None:
    port = _free_port()
    (tmp_path / "gunicorn.conf.py").write_text(
        "from coach.web.shutdown import post_worker_init  # noqa: F401\n"
    )
    graceful = 5
    served = Served(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(tmp_path / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--graceful-timeout",
            str(graceful),
            "coach:create_app()",
        ],
        _environment(database_url, fake_model, tmp_path / "instance"),
        port,
    )
    try:
        api = Api(served.url)
        session_id = api.start()
        fake_model.enqueue_stream(LONG_REPLY, delay=CHUNK_DELAY)
        events = iter(api.stream(session_id, "I was sure the second round went well."))
        _take_until_delta(events)
        os.kill(served.process.pid, signal.SIGTERM)
        told = time.monotonic()
        name, data = list(events)[-1]
        ended = time.monotonic() - told
        assert served.process.wait(timeout=graceful + 10) == 0
    finally:
        served.stop()
    assert (name, data["error"]["code"], data["retryable"]) == ("error", "server_stopping", True)
    assert data["reply"]["status"] == "partial"
    assert data["reply"]["content"].startswith("Part 0.")
    # Stopped before gunicorn's kill, not by it.
    assert ended < graceful, ended
    app = migrated_app(base_config(database_url))
    try:
        [stored] = _stored_replies(app, session_id)
        assert (stored.status, stored.error) == ("partial", "server_stopping")
        with database(app).make_session() as db:
            assert db.get_one(CoachingSession, session_id).replying_token is None
    finally:
        database(app).engine.dispose()


def test_a_killed_workers_conversation_can_be_retried_within_seconds(
    tmp_path: Path, database_url: str, fake_model: FakeModel
) -> None:
    port = _free_port()
    served = Served(
        [sys.executable, "-m", "coach", "serve", "--port", str(port)],
        _environment(database_url, fake_model, tmp_path / "instance"),
        port,
    )
    try:
        api = Api(served.url)
        session_id = api.start()
        fake_model.enqueue_stream(LONG_REPLY, delay=CHUNK_DELAY)
        events = iter(api.stream(session_id, "They said the other candidate had more depth."))
        _take_until_delta(events)
        [worker] = served.worker_pids()
        os.kill(worker, signal.SIGKILL)
        killed = time.monotonic()
        assert [name for name, _data in events] == []  # the stream just ends
        retry = f"/api/v1/sessions/{session_id}/retry"
        # Right after the kill the dead worker's mark still holds the conversation.
        status, body = _when_answered(api, "POST", retry)
        assert (status, body["error"]["code"]) == (409, "reply_in_progress")
        fake_model.enqueue_stream(["Here again. What stood out to you?"])
        fake_model.enqueue_json(EMPTY_RECORD)
        lifetime = reply_mark.MARK_LIFETIME.total_seconds()
        while status == 409 and time.monotonic() - killed < lifetime + 10:
            time.sleep(1)
            status, body = api.call("POST", retry)
        waited = time.monotonic() - killed
    finally:
        served.stop()
    assert status == 201, body
    assert body["reply"]["status"] == "complete"
    # Free once the mark expires: within its lifetime of the last renewal.
    assert waited <= lifetime + reply_mark.RENEW_EVERY_SECONDS, waited


def _when_answered(api: Api, method: str, path: str) -> tuple[int, Any]:
    """The request, once the restarted worker answers (gunicorn replaces it at once)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return api.call(method, path)
        except (ConnectionError, http.client.HTTPException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
