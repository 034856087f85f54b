"""How showing a session grows with the length of its conversation (issue 12, item 8).

Sessions of 10, 200 and 500 messages are written straight into a throwaway SQLite
database (the seeker's words and the coach's replies in turn, the replies with the
Markdown a coach writes: emphasis, lists, a link), each message stored as the app
stores it, its HTML rendered once on the way in. Then `GET /api/v1/sessions/<id>`
is timed through Flask's test client, rounds interleaving every size, and for each
size it prints the median and p95:

- as the coach answers it now: the newest page of messages (50), HTML as stored;
- the baseline, in the same run: the way it was before, every message of the
  conversation with its Markdown rendered again on every read (a route added for
  the benchmark only, running the old view's steps through the same code);

and the ratio of 500 messages to 10 for both (target for the coach: at most 2).
Last, what rendering costs when a message is stored, paid once per message.

    python benchmarks/long_session.py            # 200 rounds
    python benchmarks/long_session.py --small    # 10 rounds, for CI
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import attributes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from coach import create_app
from coach.coaching.sessions import MessagePage, get_owned_session
from coach.storage.database import database, get_db, upgrade_schema
from coach.storage.message_html import render_markdown
from coach.storage.models import Message
from coach.web.auth import require_user
from coach.web.representations import session_json

SIZES = (10, 200, 500)
ROUNDS, SMALL_ROUNDS = 200, 10
WARMUP = 3
RATIO_TARGET = 2.0
SAID = (
    "I keep going over what I said about the project I led in the second interview.",
    "The recruiter said the other candidate had more experience with stakeholders.",
    "Some days I feel fine and then a rejection email knocks me back.",
)
REPLY = (
    "That sounds **really hard**, especially after getting so close. A few things "
    "that often help after a second-round *no*:\n\n"
    "- Write down three moments from the interview that went well.\n"
    "- Ask the recruiter for one concrete piece of feedback.\n"
    "- Give yourself a day before the next application.\n\n"
    "If you want, we can look at the [interview guide](https://example.org/guide) "
    "together. What part of the conversation keeps coming back to you? (turn {n})"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help=f"{SMALL_ROUNDS} rounds, for CI")
    args = parser.parse_args()
    rounds = SMALL_ROUNDS if args.small else ROUNDS
    with tempfile.TemporaryDirectory() as directory:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "benchmark",
                "COACH_DATABASE_URL": f"sqlite:///{Path(directory) / 'coach.db'}",
                "COACH_PROVIDER": "guided",
                "RATELIMIT_ENABLED": False,
            }
        )
        # Before the app serves anything: Flask takes no routes after that.
        app.add_url_rule("/bench/old/<int:session_id>", view_func=old_show)
        upgrade_schema(app)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {guest_token(client)}"}
        sessions = {size: new_session(client, headers) for size in SIZES}
        stored = {size: store_conversation(app, sessions[size], size) for size in SIZES}
        timings = time_gets(client, headers, sessions, rounds)
        report(timings, stored, rounds)
        database(app).engine.dispose()
    return 0


def old_show(session_id: int) -> dict[str, Any]:
    """The session GET as it was: every message, each rendered from Markdown again."""
    db = get_db()
    coaching_session = get_owned_session(db, require_user(), session_id)
    messages = list(db.scalars(Message.in_session(coaching_session.id)))
    for message in messages:
        # As if the row had no stored HTML: `shown_html` renders it, as every read did.
        attributes.set_committed_value(message, "content_html", None)
    page = MessagePage(messages=messages, has_earlier=False, latest=messages[-1])
    return session_json(coaching_session, page)


def guest_token(client: FlaskClient) -> str:
    response = client.post("/api/v1/auth/guest")
    token: str = response.json["token"]  # type: ignore[index]
    return token


def new_session(client: FlaskClient, headers: dict[str, str]) -> int:
    response = client.post("/api/v1/sessions", headers=headers)
    session_id: int = response.json["id"]  # type: ignore[index]
    return session_id


def store_conversation(app: Flask, session_id: int, size: int) -> list[float]:
    """`size` messages, the seeker's and the coach's in turn; the seconds each
    reply's HTML took to render on the way in (measured beside the store)."""
    renders = []
    with database(app).make_session() as db:
        for n in range(size):
            role = "user" if n % 2 == 0 else "assistant"
            content = SAID[n % len(SAID)] if role == "user" else REPLY.format(n=n)
            db.add(
                Message(coaching_session_id=session_id, role=role, content=content, stage="causes")
            )
            if role == "assistant":
                started = time.perf_counter()
                render_markdown(content, session_id=session_id)
                renders.append(time.perf_counter() - started)
        db.commit()
    return renders


Timings = dict[tuple[str, int], list[float]]


def time_gets(
    client: FlaskClient, headers: dict[str, str], sessions: dict[int, int], rounds: int
) -> Timings:
    """Milliseconds per GET, for each way and size, in interleaved rounds (so that a
    noisy moment of the machine falls on every case alike)."""
    ways: dict[str, Callable[[int], str]] = {
        "now": lambda session_id: f"/api/v1/sessions/{session_id}",
        "old": lambda session_id: f"/bench/old/{session_id}",
    }
    timings: Timings = {(way, size): [] for way in ways for size in sessions}
    for round_number in range(WARMUP + rounds):
        for (way, size), times in timings.items():
            url = ways[way](sessions[size])
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code} {response.get_data(True)}")
            if round_number >= WARMUP:
                times.append(elapsed)
    return timings


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def report(timings: Timings, stored: dict[int, list[float]], rounds: int) -> None:
    print(f"GET /api/v1/sessions/<id>, {rounds} rounds (ms; same run; lower is better)")
    print(
        f"{'messages':>8} {'now median':>11} {'now p95':>8} {'old median':>11} {'old p95':>8}"
        f" {'old/now':>8}"
    )
    for size in SIZES:
        now, old = timings[("now", size)], timings[("old", size)]
        print(
            f"{size:>8} {statistics.median(now):>11.2f} {p95(now):>8.2f}"
            f" {statistics.median(old):>11.2f} {p95(old):>8.2f}"
            f" {statistics.median(old) / statistics.median(now):>8.2f}"
        )
    smallest, largest = SIZES[0], SIZES[-1]
    for way, label in (("now", "now (a page, HTML as stored)"), ("old", "old (all, rendered)")):
        ratio = statistics.median(timings[(way, largest)]) / statistics.median(
            timings[(way, smallest)]
        )
        target = f" (target <= {RATIO_TARGET:g}: {'met' if ratio <= RATIO_TARGET else 'missed'})"
        print(
            f"ratio {largest}/{smallest} messages, {label}: {ratio:.2f}"
            + (target if way == "now" else "")
        )
    renders = [seconds * 1_000_000 for times in stored.values() for seconds in times]
    print(
        f"rendering a reply's HTML when it is stored: median {statistics.median(renders):.0f} us,"
        f" once per message ({len(renders)} replies)"
    )


if __name__ == "__main__":
    sys.exit(main())
