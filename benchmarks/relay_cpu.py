"""Relay cost (issue 12, item 6): CPU time per streamed chunk through the coach.

The fake model (`fake_server.py`, in process, quick) streams replies of two
lengths; each way of reading them is timed with `time.thread_time()`, the CPU
of the reading thread alone (the fake's own thread and the coach's background work
are not counted). The cost of a chunk is the slope between the two lengths (what
the longer reply's extra chunks cost, each), so that what a reply costs once (the
request, the database, the prompt) falls out. The lengths alternate, so that a
conversation growing turn by turn weighs on both alike.

- floor: `httpx2` reads the raw SSE stream and `json.loads` each `data:` line;
- openai Stream (reference): the `openai` client's own `Stream` of pydantic chunks;
- provider: `OpenAIProvider.stream_reply`, the coach's streaming path;
- Reply: a whole turn's `Reply` (`coach.coaching.reply`) iterated as the JSON and
  SSE views do: the provider, the output guard, the cancel watch and the events.

Target: the Reply at most 2 times the floor per chunk.

    python benchmarks/relay_cpu.py            # 30 replies of each length and way
    python benchmarks/relay_cpu.py --small    # 4, for CI
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable

import httpx2
import openai
from coach_on_fake import Seeker, coach_on_fake
from fake_server import FakeServer, Pace

from coach.coaching.background import background
from coach.coaching.turns import begin_turn
from coach.providers import ChatPrompt, Completion, provider
from coach.providers.openai_chat import OpenAIProvider
from coach.storage.database import database
from coach.storage.models import CoachingSession

SHORT, LONG = 50, 250
# Quick, but with a pause between chunks, so that each arrives on its own as a
# model's do (all at once, a reader would get many chunks a read, and how many would
# depend on how fast it reads, not on what a chunk costs).
TOKENS_PER_SECOND = 2000.0
PROMPT = ChatPrompt(
    system="You are a coach helping someone after a job rejection.",
    history=(),
    user_message="They told me the other candidate had more experience.",
)
SAID = "They told me the other candidate had more experience with the tooling."

Reader = Callable[[], int]  # reads one whole reply; the chunks it saw


def floor(fake: FakeServer, http: httpx2.Client) -> Reader:
    body = {"model": "bench-model", "messages": PROMPT.chat_messages(), "stream": True}

    def read() -> int:
        chunks = 0
        with http.stream("POST", f"{fake.url}/chat/completions", json=body) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    json.loads(line[6:])
                    chunks += 1
        return chunks

    return read


def openai_stream(fake: FakeServer, client: openai.OpenAI) -> Reader:
    def read() -> int:
        chunks = 0
        stream = client.chat.completions.create(
            model="bench-model",
            messages=PROMPT.chat_messages(),  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
        )
        with stream:
            for chunk in stream:
                for choice in chunk.choices:
                    _ = choice.delta.content
                chunks += 1
        return chunks

    return read


def provider_path(chosen: OpenAIProvider) -> Reader:
    def read() -> int:
        return sum(1 for _ in chosen.stream_reply(PROMPT, Completion()))

    return read


def reply_path(seeker: Seeker) -> Reader:
    app = seeker.app
    with database(app).make_session() as db:
        user_id = db.get_one(CoachingSession, seeker.session_id).owner_id

    def read() -> int:
        reply = begin_turn(app, user_id, seeker.session_id, SAID)
        try:
            deltas = sum(1 for event in reply if event.name == "delta")
        finally:
            reply.close()
        if reply.stored is None or reply.stored.status != "complete":
            raise RuntimeError(f"the reply ended {reply.ending}")
        return deltas

    return read


def cpu_per_reply(
    read: Reader, fake: FakeServer, repeats: int, settle: Callable[[], None]
) -> tuple[float, float]:
    """The median CPU microseconds of a short and of a long reply, read alternately."""
    times: dict[int, list[float]] = {SHORT: [], LONG: []}
    for _ in range(repeats):
        for tokens in (SHORT, LONG):
            fake.pace.reply_tokens = tokens
            settle()
            began = time.thread_time()
            read()
            times[tokens].append(time.thread_time() - began)
    return statistics.median(times[SHORT]) * 1e6, statistics.median(times[LONG]) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a few replies, for CI")
    args = parser.parse_args()
    repeats = 4 if args.small else 30
    pace = Pace(first_token_ms=0.0, tokens_per_second=TOKENS_PER_SECOND, reply_tokens=SHORT)
    with coach_on_fake(pace, COACH_RATE_LIMIT="100000 per minute") as (fake, seeker):
        chosen = provider(seeker.app)
        assert isinstance(chosen, OpenAIProvider)
        client = openai.OpenAI(api_key="sk-benchmark", base_url=fake.url, max_retries=0)
        http = httpx2.Client()
        ways: dict[str, tuple[Reader, Callable[[], None]]] = {
            "floor (httpx2 + json)": (floor(fake, http), lambda: None),
            "openai Stream": (openai_stream(fake, client), lambda: None),
            "provider": (provider_path(chosen), lambda: None),
            "Reply": (reply_path(seeker), background(seeker.app).wait_idle),
        }
        rows = {}
        for name, (read, settle) in ways.items():
            for _ in range(2):  # warm up: connections, caches, the first turn's extras
                settle()
                read()
            short, long = cpu_per_reply(read, fake, repeats, settle)
            rows[name] = (short, long, (long - short) / (LONG - SHORT))
        http.close()
        client.close()
    base = rows["floor (httpx2 + json)"][2]
    print(
        f"CPU of the reading thread, medians of {repeats} replies; a chunk's cost is the "
        f"slope between {SHORT} and {LONG} chunks (microseconds)"
    )
    print(
        f"{'way':<22} {f'{SHORT} chunks':>12} {f'{LONG} chunks':>12} "
        f"{'per chunk':>10} {'x floor':>8}"
    )
    for name, (short, long, per_chunk) in rows.items():
        print(
            f"{name:<22} {short:>12.0f} {long:>12.0f} {per_chunk:>10.1f} {per_chunk / base:>8.2f}"
        )
    print()
    for name in ("provider", "Reply"):
        ratio = rows[name][2] / base
        print(
            f"{name} per chunk: {ratio:.2f} x the floor "
            f"(target <= 2: {'met' if ratio <= 2 else 'missed'})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
