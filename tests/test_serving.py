"""The shipped serving configuration under load: gunicorn started with
`gunicorn.conf.py`, the `openai` provider streaming from the fake model.

64 seekers send a message at once while 40 connections sit on half-sent
requests; every stream opens at once (first-byte and first-text times are
printed), and `/healthz` keeps answering throughout."""

from __future__ import annotations

import json
import socket
import statistics
import threading
import time
from collections.abc import Iterator

import pytest

from tests.fake_model import FakeModel
from tests.served import Served, serve_with_model

STREAMS = 64
IDLE_CONNECTIONS = 40
# The model waits this long before each of its chunks: a stream lasts at least
# CHUNKS * CHUNK_DELAY, so a stream that had to wait for another to finish would
# show it in its first-text time.
# Whole sentences, since the output guard holds an unfinished one back.
CHUNKS = [
    "Thank you for telling me.",
    " That sounds hard.",
    " What stung most?",
    " Take your time.",
]
CHUNK_DELAY = 2.0
STREAM_SECONDS = len(CHUNKS) * CHUNK_DELAY


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeModel]:
    with FakeModel() as model:
        model.answer_every_turn(CHUNKS, delay=CHUNK_DELAY, record="{}")
        yield model


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, fake: FakeModel) -> Iterator[Served]:
    server = serve_with_model(
        tmp_path_factory.mktemp("served"),
        fake.url,
        # Every seeker comes from 127.0.0.1 here.
        {"COACH_GUEST_LIMIT": "1000 per hour"},
    )
    yield server
    server.stop()


def _seekers(served: Served, count: int) -> list[tuple[str, int]]:
    seekers = []
    for _ in range(count):
        status, _, body = served.request("POST", "/api/v1/auth/guest")
        assert status == 201, body
        token = json.loads(body)["token"]
        status, _, body = served.request(
            "POST", "/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}
        )
        assert status == 201, body
        seekers.append((token, json.loads(body)["id"]))
    return seekers


class Stream:
    """One seeker's message sent with `Accept: text/event-stream`, timed."""

    def __init__(self, served: Served, token: str, session_id: int) -> None:
        self.served, self.token, self.session_id = served, token, session_id
        self.first_byte: float | None = None
        self.first_text: float | None = None
        self.body = ""
        self.error: BaseException | None = None

    def run(self, start: threading.Event) -> None:
        start.wait()
        began = time.monotonic()
        connection = self.served.connection(timeout=30)
        try:
            connection.request(
                "POST",
                f"/api/v1/sessions/{self.session_id}/messages",
                body='{"content": "They chose someone else after the second interview."}',
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Accept": "text/event-stream",
                    "Content-Type": "application/json",
                },
            )
            response = connection.getresponse()
            while True:
                line = response.readline()
                if not line:
                    break
                if self.first_byte is None:
                    self.first_byte = time.monotonic() - began
                if line.startswith(b"event: delta") and self.first_text is None:
                    self.first_text = time.monotonic() - began
                self.body += line.decode()
        except BaseException as exc:  # reported by the test, with the others
            self.error = exc
        finally:
            connection.close()


def _half_sent_requests(served: Served, count: int) -> list[socket.socket]:
    """Connections that start a request and never finish its headers."""
    idle = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", served.port))
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        idle.append(sock)
    return idle


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def test_the_shipped_configuration_holds_64_streams_and_idle_connections(
    served: Served, fake: FakeModel
) -> None:
    seekers = _seekers(served, STREAMS)
    idle = _half_sent_requests(served, IDLE_CONNECTIONS)
    health_times: list[float] = []
    try:
        time.sleep(0.5)  # the idle connections have reached worker threads
        start = threading.Event()
        streams = [Stream(served, token, session_id) for token, session_id in seekers]
        threads = [threading.Thread(target=s.run, args=(start,)) for s in streams]
        for thread in threads:
            thread.start()
        began = time.monotonic()
        start.set()
        # While every stream is open, the load balancer's probe still answers.
        while any(thread.is_alive() for thread in threads):
            asked = time.monotonic()
            status, _, _ = served.request("GET", "/healthz", timeout=5)
            assert status == 200
            health_times.append(time.monotonic() - asked)
            time.sleep(0.25)
        for thread in threads:
            thread.join()
        total = time.monotonic() - began
    finally:
        for sock in idle:
            sock.close()

    errors = [s.error for s in streams if s.error is not None]
    assert not errors, errors
    for stream in streams:
        assert "event: done" in stream.body, stream.body[-500:]
    first_bytes = [s.first_byte for s in streams if s.first_byte is not None]
    first_texts = [s.first_text for s in streams if s.first_text is not None]
    assert len(first_bytes) == len(first_texts) == STREAMS
    print(
        f"\n{STREAMS} streams with {IDLE_CONNECTIONS} idle connections, all done in "
        f"{total:.2f} s (each at least {STREAM_SECONDS:.1f} s)\n"
        f"first byte:  median {statistics.median(first_bytes):.3f} s, "
        f"p95 {_percentile(first_bytes, 0.95):.3f} s, max {max(first_bytes):.3f} s\n"
        f"first text:  median {statistics.median(first_texts):.3f} s, "
        f"p95 {_percentile(first_texts, 0.95):.3f} s, max {max(first_texts):.3f} s "
        f"(the model's first chunk comes after {CHUNK_DELAY:.1f} s)\n"
        f"/healthz during the load: {len(health_times)} probes, "
        f"max {max(health_times):.3f} s; the model had {fake.peak_streams} streams open at once"
    )
    # All at once: every stream was open at the model before the first ended (with
    # too few threads the rest would wait for a thread, in waves). Timing
    # thresholds would depend on how busy the machine is; this does not.
    assert fake.peak_streams == STREAMS
    assert max(health_times) < 3.0


def test_idle_connections_do_not_stop_healthz(served: Served) -> None:
    idle = _half_sent_requests(served, IDLE_CONNECTIONS)
    try:
        time.sleep(0.5)
        for _ in range(5):
            asked = time.monotonic()
            status, _, body = served.request("GET", "/healthz", timeout=5)
            assert status == 200, body
            assert time.monotonic() - asked < 1.0
    finally:
        for sock in idle:
            sock.close()


def test_the_server_logs_with_time_level_logger_and_request_id(served: Served) -> None:
    status, headers, _ = served.request("GET", "/livez", headers={"X-Request-ID": "probe-42"})
    assert status == 200
    assert headers["X-Request-ID"] == "probe-42"
    deadline = time.monotonic() + 5
    while "[probe-42] GET /livez 200" not in served.log and time.monotonic() < deadline:
        time.sleep(0.1)
    line = next(line for line in served.log.splitlines() if "[probe-42]" in line)
    # 2026-11-28T15:00:00Z INFO coach.access [probe-42] GET /livez 200 1ms 127.0.0.1
    assert " INFO coach.access [probe-42] GET /livez 200 " in line
    assert line[:20].endswith("Z")
    assert "INFO gunicorn.error [-] Using worker: gthread" in served.log
