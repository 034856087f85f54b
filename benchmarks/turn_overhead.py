"""Turn overhead (issue 12, item 1): what a plain JSON turn through the coach costs on
top of the model's own time.

The coach is served as in production: gunicorn with the shipped `gunicorn.conf.py`,
on a throwaway SQLite file, with the `openai` provider pointed at the fake model
(`fake_server.py`, in a process of its own). A seeker sends messages over the JSON
API (`POST /api/v1/sessions/<id>/messages`, no SSE) and waits for each whole turn.
The baseline, measured in the same run and interleaved turn by turn, is the same
chat-completions request (the very body the coach last sent, read back from the
fake) sent directly with the `openai` client, not streamed.

At each model latency (0 ms and 200 ms to the first token, then the reply's tokens
at once) it prints the median and p95 of both, their ratio and the difference.
Targets: the coach within 5 % of direct at 200 ms; its own overhead at 0 ms a few
milliseconds. Turns go round several conversations with a short pause between
them, as seekers' turns come with time to read and type in between: the turn's
background work (the record's reading, the safety second look) runs in that pause,
not on the next turn's clock.

    python benchmarks/turn_overhead.py            # 60 turns at each latency
    python benchmarks/turn_overhead.py --small    # 8 turns each, for CI
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai

sys.path.insert(0, str(Path(__file__).resolve().parent))

from served_coach import FakeProcess, Pace, fake_model, percentile, served_coach

LATENCIES_MS = (0, 200)
REPLY_TOKENS = 50  # chunks of a streamed reply, as a coach's short reply runs
CONVERSATIONS = 6
THINK_SECONDS = 0.05
WARM_UP_TURNS = 3
FEW_MILLISECONDS = 5
# Seekers' words that keep coaching going (no distress, no request for the plan).
SAID = (
    "They told me the other candidate had more experience with the tooling.",
    "I thought the second interview went well; we talked for an hour.",
    "The recruiter was friendly on the phone, which made it harder somehow.",
    "I had prepared a case study about the migration project I led last year.",
    "The panel asked a lot about stakeholder management.",
    "I am not sure what I could have done differently in the room.",
)


class Local:
    """A keep-alive HTTP/1.1 connection to the coach, JSON in and out: a turn's time
    is the coach's, not a new connection's."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        sent = {"Content-Type": "application/json", **(headers or {})}
        data = json.dumps(body) if body is not None else None
        self.connection.request(method, path, body=data, headers=sent)
        response = self.connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None


@dataclass
class Setup:
    fake: FakeProcess
    coach: Local
    headers: dict[str, str]
    sessions: list[int]
    master_pid: int

    def workers_cpu_seconds(self) -> float:
        """CPU used so far by gunicorn's workers: on a shared, busy machine the
        clearest measure of what the coach itself costs."""
        children = Path(f"/proc/{self.master_pid}/task/{self.master_pid}/children")
        return sum(process_cpu_seconds(int(pid)) for pid in children.read_text().split())


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    user, system = int(fields[11]), int(fields[12])
    return (user + system) / os.sysconf("SC_CLK_TCK")


@contextmanager
def coach_and_fake() -> Iterator[Setup]:
    """The fake model (the whole reply at once; `measure` sets the time to its first
    token) and the coach under gunicorn, with one guest's sessions to talk in."""
    with (
        fake_model(Pace(first_token_ms=0, tokens_per_second=0, reply_tokens=REPLY_TOKENS)) as fake,
        served_coach(fake, COACH_LOG_LEVEL="WARNING") as served,
    ):
        coach = Local(served.port)
        status, guest = coach.call("POST", "/api/v1/auth/guest")
        if status != 201:
            raise RuntimeError(f"no guest ({status}): {guest}")
        headers = {"Authorization": f"Bearer {guest['token']}"}
        sessions = [
            coach.call("POST", "/api/v1/sessions", headers=headers)[1]["id"]
            for _ in range(CONVERSATIONS)
        ]
        yield Setup(fake, coach, headers, sessions, served.process.pid)


@dataclass
class Timings:
    latency_ms: int
    coach: list[float]
    direct: list[float]
    # What the fake model was asked during the timed turns, by kind (the direct
    # requests counted as replies too).
    requests: dict[str, int] | None = None
    # CPU milliseconds a turn: the coach's workers (background work included), and
    # this process's for the direct requests.
    coach_cpu_ms: float = 0.0
    direct_cpu_ms: float = 0.0


def measure(setup: Setup, latency_ms: int, turns: int) -> Timings:
    setup.fake.change_pace(first_token_ms=latency_ms)
    client = openai.OpenAI(api_key="sk-benchmark", base_url=setup.fake.url, max_retries=0)
    timings = Timings(latency_ms, [], [])
    coach_cpu = direct_cpu = 0.0
    for number in range(WARM_UP_TURNS + turns):
        session_id = setup.sessions[number % len(setup.sessions)]
        said = SAID[(number // len(setup.sessions)) % len(SAID)]
        began = time.perf_counter()
        status, turn = setup.coach.call(
            "POST",
            f"/api/v1/sessions/{session_id}/messages",
            {"content": said},
            setup.headers,
        )
        coach_seconds = time.perf_counter() - began
        if status != 201:
            raise RuntimeError(f"turn failed ({status}): {turn}")
        time.sleep(THINK_SECONDS)
        body = setup.fake.last_reply_request()
        began, began_cpu = time.perf_counter(), time.process_time()
        client.chat.completions.create(
            model=body["model"], messages=body["messages"], max_tokens=body.get("max_tokens")
        )
        direct_seconds = time.perf_counter() - began
        direct_cpu += time.process_time() - began_cpu
        if number == WARM_UP_TURNS - 1:
            setup.fake.reset()
            coach_cpu, direct_cpu = setup.workers_cpu_seconds(), 0.0
        if number >= WARM_UP_TURNS:
            timings.coach.append(coach_seconds * 1000)
            timings.direct.append(direct_seconds * 1000)
        time.sleep(THINK_SECONDS)
    client.close()
    time.sleep(0.5)  # the last turn's background work
    timings.coach_cpu_ms = (setup.workers_cpu_seconds() - coach_cpu) * 1000 / turns
    timings.direct_cpu_ms = direct_cpu * 1000 / turns
    timings.requests = setup.fake.stats()["by_kind"]
    return timings


def report(all_timings: list[Timings]) -> None:
    print(
        f"{'model ms':>8} {'turns':>5} {'coach med':>10} {'coach p95':>10} "
        f"{'direct med':>11} {'direct p95':>11} {'ratio med':>10} {'ratio p95':>10} "
        f"{'added med':>10}"
    )
    for t in all_timings:
        coach_med, direct_med = statistics.median(t.coach), statistics.median(t.direct)
        coach_p95, direct_p95 = percentile(t.coach, 0.95), percentile(t.direct, 0.95)
        print(
            f"{t.latency_ms:>8} {len(t.coach):>5} {coach_med:>10.1f} {coach_p95:>10.1f} "
            f"{direct_med:>11.1f} {direct_p95:>11.1f} {coach_med / direct_med:>10.3f} "
            f"{coach_p95 / direct_p95:>10.3f} {coach_med - direct_med:>10.1f}"
        )
    for t in all_timings:
        counted = (t.requests or {}).items()
        asked = ", ".join(f"{kind} {n / len(t.coach):.2f}" for kind, n in counted)
        print(f"at {t.latency_ms} ms, model requests a turn (direct ones included): {asked}")
        print(
            f"at {t.latency_ms} ms, CPU a turn: the coach's worker {t.coach_cpu_ms:.1f} ms "
            f"(background work included), the direct request's client {t.direct_cpu_ms:.1f} ms"
        )
    print()
    for t in all_timings:
        ratio = statistics.median(t.coach) / statistics.median(t.direct)
        added = statistics.median(t.coach) - statistics.median(t.direct)
        if t.latency_ms >= 200:
            verdict = "met" if ratio <= 1.05 else "missed"
            print(
                f"at {t.latency_ms} ms: coach / direct {ratio:.3f} at the median "
                f"(target <= 1.05: {verdict})"
            )
        else:
            verdict = "met" if added <= FEW_MILLISECONDS else "missed"
            print(
                f"at {t.latency_ms} ms: the coach adds {added:.1f} ms a turn at the median "
                f"(target: a few milliseconds, <= {FEW_MILLISECONDS}: {verdict})"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a few turns, for CI")
    parser.add_argument("--turns", type=int, default=None, help="timed turns at each latency")
    args = parser.parse_args()
    turns = args.turns or (8 if args.small else 60)
    with coach_and_fake() as setup:
        timings = [measure(setup, latency, turns) for latency in LATENCIES_MS]
    print(
        f"a JSON turn through the coach (gunicorn, SQLite) vs the same request sent "
        f"directly with the openai client; {REPLY_TOKENS}-token replies; times in ms"
    )
    report(timings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
