"""How the cost of one turn grows with the length of the conversation.

Builds a guided conversation of up to 200 turns on a temporary SQLite file and,
at a few points, measures the prompt the model would be sent (its size, the time
to build it, median of repeated builds, and the peak memory while building) and
the time of a whole turn over the API (median of the turns around that point).
Every turn is in the same stage (the conversation moves to the last stage, which
never ends, before the first turn), so that the ratios measure the length of the
conversation and not the size of one stage's template against another's.
Everything is printed as a ratio to turn 10, measured in the same run, next to
what an unbounded prompt (the whole history verbatim) would have cost.

    python benchmarks/prompt_growth.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from coach import create_app
from coach.coaching.prompts import build_chat_prompt
from coach.storage.database import database, upgrade_schema
from coach.storage.models import Message

CHECKPOINTS = (10, 50, 100, 200)
REPEATS = 30
TURN_WINDOW = 9  # whole turns timed around each checkpoint
STAGE = "plan"  # the last stage: no exit rule moves a turn out of it


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "benchmark",
                "COACH_DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}",
                "COACH_PROVIDER": "guided",
                "RATELIMIT_ENABLED": False,
            }
        )
        upgrade_schema(app)
        client = app.test_client()
        token = client.post("/api/v1/auth/guest").json["token"]
        headers = {"Authorization": f"Bearer {token}"}
        session_id = client.post("/api/v1/sessions", headers=headers).json["id"]
        client.patch(f"/api/v1/sessions/{session_id}", headers=headers, json={"stage": STAGE})
        results = {}
        turn_seconds = []
        for turn in range(1, max(CHECKPOINTS) + 1):
            text = f"Turn {turn}: I keep going over what I said about the project I led."
            started = time.perf_counter()
            response = client.post(
                f"/api/v1/sessions/{session_id}/messages", headers=headers, json={"content": text}
            )
            turn_seconds.append(time.perf_counter() - started)
            assert response.status_code == 201, response.json
            assert response.json["user_message"]["stage"] == STAGE
            if turn in CHECKPOINTS:
                results[turn] = measure(app, session_id)
                results[turn]["turn"] = statistics.median(turn_seconds[-TURN_WINDOW:])
        database(app).engine.dispose()
    report(results)


def measure(app, session_id: int) -> dict[str, float]:
    with database(app).make_session() as db:
        messages = db.scalars(Message.in_session(session_id)).all()
        last_user = max(m.id for m in messages if m.role == "user")
        unbounded = sum(len(m.content) for m in messages)
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        prompt = build_chat_prompt(app, last_user)
        timings.append(time.perf_counter() - started)
    tracemalloc.start()
    build_chat_prompt(app, last_user)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = sum(len(m["content"]) for m in prompt.chat_messages())
    system = len(prompt.system)
    return {
        "size": size,
        "unbounded": unbounded + system,
        "seconds": statistics.median(timings),
        "peak": peak,
    }


def report(results: dict[int, dict[str, float]]) -> None:
    base = results[CHECKPOINTS[0]]
    print(f"turn cost against turn {CHECKPOINTS[0]} (same run; lower is better)")
    print(
        f"{'turn':>5} {'chars':>7} {'size x':>7} {'unbounded x':>12} {'build x':>8} "
        f"{'memory x':>9} {'turn x':>7}"
    )
    for turn, row in results.items():
        print(
            f"{turn:>5} {row['size']:>7.0f} {row['size'] / base['size']:>7.2f} "
            f"{row['unbounded'] / base['unbounded']:>12.2f} "
            f"{row['seconds'] / base['seconds']:>8.2f} {row['peak'] / base['peak']:>9.2f} "
            f"{row['turn'] / base['turn']:>7.2f}"
        )


if __name__ == "__main__":
    main()
