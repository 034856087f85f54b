"""The coach served as it ships, talking to the benchmarks' fake model, for the
benchmarks that drive it over HTTP (`streaming_concurrency.py`, `nothing_held.py`,
`disconnect.py`, `turn_overhead.py`).

- The fake model (`fake_server.py`) runs as a process of its own, so that its pace
  is not slowed by the benchmark's own client threads.
- The coach runs under gunicorn with the shipped `gunicorn.conf.py` (worker class,
  threads and workers as shipped; `tests/served.py` starts it) on a throwaway SQLite
  file, with the `openai` provider pointed at the fake.
- Seekers are guests, each with a new session; a turn is sent with
  `Accept: text/event-stream` and timed to its first `delta` event and to its end.
- The baseline is the same streamed request sent directly to the fake with the
  `openai` client, as many at once, timed the same way.
"""

from __future__ import annotations

import json
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fake_server import Pace  # noqa: E402

from tests.served import Served, free_port, migrate, serve  # noqa: E402

# The end of a sentence as the output guard sees it (`coach.safety.output_guard`):
# its stop, then the space that shows nothing more belongs to it, whether that space
# comes in the same chunk (as the fake model sends ". ") or starts the next one.
SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s")
MESSAGE = "They chose someone else after the second interview. I keep replaying it."
METRICS_TOKEN = "benchmark-metrics-token"
# A bucket of the connection hold histogram in /metrics, and its upper bound.
HOLD_SAMPLE = re.compile(r'coach_database_connection_hold_seconds_bucket\{le="([0-9.e+-]+)"\}')


@dataclass
class FakeProcess:
    """`fake_server.py` in a process of its own."""

    url: str
    process: subprocess.Popen[bytes]

    @property
    def root(self) -> str:
        return self.url.removesuffix("/v1")

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/stats")

    def reset(self) -> None:
        self._call("POST", "/stats/reset", {})

    def change_pace(self, **changes: float) -> None:
        """The pace of the requests that follow."""
        self._call("POST", "/pace", changes)

    def last_reply_request(self) -> dict[str, Any]:
        """The body of the last reply request, as it arrived."""
        return self._call("GET", "/last_reply_request")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.root}{path}", method=method, data=data)
        with urllib.request.urlopen(request, timeout=10) as answer:
            found: dict[str, Any] = json.load(answer)
            return found


@contextmanager
def fake_model(pace: Pace) -> Iterator[FakeProcess]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "fake_server.py"),
            "--port",
            str(port),
            *pace.command_line(),
        ],
        stdout=subprocess.DEVNULL,
    )
    fake = FakeProcess(f"http://127.0.0.1:{port}/v1", process)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                fake.stats()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the fake model did not start") from None
                time.sleep(0.1)
        yield fake
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def served_coach(fake: FakeProcess, *extra_args: str, **settings: str) -> Iterator[Served]:
    """Gunicorn as shipped, on a new SQLite file, talking to `fake`."""
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as folder:
        database_url = f"sqlite:///{Path(folder) / 'coach.db'}"
        migrate(database_url)
        server = serve(
            Path(folder),
            {
                "COACH_DATABASE_URL": database_url,
                "OPENAI_API_KEY": "sk-benchmark",
                "OPENAI_BASE_URL": fake.url,
                "COACH_MODEL": "bench-model",
                "COACH_MODEL_ATTEMPTS": "1",
                "COACH_METRICS_TOKEN": METRICS_TOKEN,
                # Every seeker comes from 127.0.0.1 here.
                "COACH_GUEST_LIMIT": "100000 per hour",
                "COACH_RATE_LIMIT": "100000 per hour",
                "COACH_SESSION_LIMIT": "100000 per hour",
                **settings,
            },
            *extra_args,
        )
        try:
            yield server
        finally:
            server.stop()


def seekers(served: Served, count: int) -> list[tuple[str, int]]:
    """`count` guests, each with a new session: (bearer token, session id)."""
    found = []
    for _ in range(count):
        status, _, body = served.request("POST", "/api/v1/auth/guest")
        if status != 201:
            raise RuntimeError(f"no guest ({status}): {body}")
        token = json.loads(body)["token"]
        status, _, body = served.request(
            "POST", "/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}
        )
        if status != 201:
            raise RuntimeError(f"no session ({status}): {body}")
        found.append((token, json.loads(body)["id"]))
    return found


@dataclass
class Timing:
    """One stream: seconds from sending to its first text and to its end."""

    first_delta: float | None = None
    # Through the coach only: the `message` event, sent once the turn is screened,
    # settled and stored, before the model is asked.
    message: float | None = None
    # Direct only: when the text held a whole sentence and what follows it, the
    # earliest the coach's output guard (which releases sentence by sentence) can
    # send its first delta.
    first_sentence: float | None = None
    whole: float | None = None
    deltas: int = 0
    ending: str = ""
    error: str = ""
    # time.monotonic() when the client dropped the stream (the same clock as the
    # fake model's, in another process on this machine).
    dropped_at: float | None = None


def stream_turn(
    served: Served, token: str, session_id: int, *, stop_after_deltas: int | None = None
) -> Timing:
    """Send one message as a stream and read it to its end (or drop it after
    `stop_after_deltas` deltas: the connection is closed there)."""
    timing = Timing()
    began = time.perf_counter()
    connection = served.connection(timeout=120)
    try:
        connection.request(
            "POST",
            f"/api/v1/sessions/{session_id}/messages",
            body=json.dumps({"content": MESSAGE}),
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "text/event-stream",
                "Content-Type": "application/json",
            },
        )
        response = connection.getresponse()
        if response.status != 201:
            timing.error = f"{response.status} {response.read()[:200]!r}"
            return timing
        while True:
            line = response.readline()
            if not line:
                break
            if line.startswith(b"event: "):
                name = line[7:].strip().decode()
                if name == "delta":
                    timing.deltas += 1
                    if timing.first_delta is None:
                        timing.first_delta = time.perf_counter() - began
                    if stop_after_deltas is not None and timing.deltas >= stop_after_deltas:
                        timing.ending = "dropped"
                        connection.close()
                        timing.dropped_at = time.monotonic()
                        return timing
                elif name == "message":
                    timing.message = time.perf_counter() - began
                elif name in ("done", "error"):
                    timing.ending = name
        timing.whole = time.perf_counter() - began
    except Exception as exc:
        timing.error = repr(exc)
    finally:
        connection.close()
    return timing


def stream_direct(fake: FakeProcess, *, stop_after_chunks: int | None = None) -> Timing:
    """The same streamed request sent to the fake directly with the `openai` client
    (dropped after `stop_after_chunks` chunks of text, if given)."""
    from openai import OpenAI

    timing = Timing()
    client = OpenAI(base_url=fake.url, api_key="sk-benchmark", max_retries=0)
    began = time.perf_counter()
    try:
        stream = client.chat.completions.create(
            model="bench-model",
            messages=[{"role": "user", "content": MESSAGE}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text = ""
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                timing.deltas += 1
                if timing.first_delta is None:
                    timing.first_delta = time.perf_counter() - began
                text += chunk.choices[0].delta.content
                if timing.first_sentence is None and SENTENCE_END.search(text):
                    timing.first_sentence = time.perf_counter() - began
                if stop_after_chunks is not None and timing.deltas >= stop_after_chunks:
                    stream.close()
                    timing.dropped_at = time.monotonic()
                    timing.ending = "dropped"
                    return timing
        timing.whole = time.perf_counter() - began
        if timing.first_sentence is None:
            timing.first_sentence = timing.whole
        timing.ending = "done"
    except Exception as exc:
        timing.error = repr(exc)
    finally:
        client.close()
    return timing


@contextmanager
def warmed_up(
    pace: Pace, *extra_args: str, **settings: str
) -> Iterator[tuple[FakeProcess, Served]]:
    """The fake model at `pace` and the coach served on it (as `served_coach`), each
    through one stream already: a worker imports lazily and opens its first database
    connections on its first turn, which no timed figure should include."""
    with fake_model(pace) as fake, served_coach(fake, *extra_args, **settings) as served:
        stream_turn(served, *seekers(served, 1)[0])
        stream_direct(fake)
        yield fake, served


def at_once(count: int, run: Callable[[int], Timing]) -> list[Timing]:
    """`run(i)` for i in range(count), in threads released together."""
    results: list[Timing | None] = [None] * count
    start = threading.Barrier(count + 1)

    def one(index: int) -> None:
        start.wait()
        results[index] = run(index)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    start.wait()
    for thread in threads:
        thread.join(timeout=300)
    return [r or Timing(error="did not finish") for r in results]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def scrape(served: Served) -> dict[str, float]:
    """The coach's /metrics, as {sample name with labels: value} summed over workers."""
    status, _, body = served.request(
        "GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    samples: dict[str, float] = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        samples[name] = samples.get(name, 0.0) + float(value)
    return samples
