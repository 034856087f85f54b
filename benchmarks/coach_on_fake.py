"""The coach talking to the benchmarks' fake model, driven through Flask's test client.

For the benchmarks that count what the coach sends (`cost_growth.py`,
`model_calls.py`), not how long it takes: one app with the `openai` provider on a
throwaway SQLite file, pointed at an in-process `FakeServer` that answers at once
with a short reply, and a seeker who sends messages over the JSON API. After each
turn the background work (the record's reading, the safety second look, the
summary's rewrite) is waited for, so that every request a turn causes is counted
with that turn.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fake_server
from fake_server import FakeServer, Pace

from coach import create_app
from coach.coaching.background import background
from coach.coaching.clock import clock
from coach.storage.database import database, upgrade_schema
from coach.storage.models import Message

# Instant: these benchmarks count requests and prompt sizes, not time. A reply of
# 100 tokens (about 400 characters), as a coach's short reply runs.
QUICK = Pace(first_token_ms=0.0, tokens_per_second=0.0, reply_tokens=100)


def plan_answer(today: date) -> dict[str, Any]:
    """A plan that fits `PlanDraft` and the rules of any record made today: every step
    due today, and goals in categories that cover every cause's strategies (skills,
    applications, networking), so that a plan turn costs one request and succeeds, as
    it does with a capable model. The fake answers by schema name alone and knows no
    record, hence one plan for all."""
    due = today.isoformat()

    def goal(title: str, category: str) -> dict[str, Any]:
        steps = [{"title": f"Set aside an hour for: {title.lower()}", "due": due}]
        return {
            "title": title,
            "why": "It came up in the conversation.",
            "category": category,
            "steps": steps,
        }

    return {
        "headline": "A few small steps for the next weeks.",
        "goals": [
            goal("Practise the skill the feedback named", "skills"),
            goal("Send two tailored applications", "applications"),
            goal("Talk to one person in the field", "networking"),
            goal("Keep a steady weekly rhythm", "wellbeing"),
        ],
        "routine": ["Job search on weekday mornings", "A walk every day"],
        "support": ["A friend to talk things over with"],
    }


@dataclass
class Seeker:
    """One guest with one conversation in the app."""

    app: Flask
    headers: dict[str, str]
    session_id: int
    stages: list[str] = field(default_factory=list)

    def say(self, text: str, failing: tuple[int, ...] = ()) -> dict[str, Any]:
        """Send one message, wait for the turn's background work; the turn's JSON.
        A status in `failing` is expected (a turn the fake cannot answer well)."""
        response = self.app.test_client().post(
            f"/api/v1/sessions/{self.session_id}/messages",
            headers=self.headers,
            json={"content": text},
        )
        if response.status_code != 201 and response.status_code not in failing:
            raise RuntimeError(f"turn failed ({response.status_code}): {response.get_data(True)}")
        background(self.app).wait_idle()
        turn: dict[str, Any] = response.json or {}
        self.stages.append(turn["user_message"]["stage"])
        return turn

    def move_to(self, stage: str) -> None:
        response = self.app.test_client().patch(
            f"/api/v1/sessions/{self.session_id}", headers=self.headers, json={"stage": stage}
        )
        if response.status_code != 200:
            raise RuntimeError(f"could not move to {stage}: {response.get_data(True)}")

    def stored_turns(self) -> list[StoredTurn]:
        """Each seeker message and the coach's reply to it, as stored, oldest first."""
        with database(self.app).make_session() as db:
            messages = db.scalars(Message.in_session(self.session_id)).all()
            said = {m.id: m for m in messages if m.role == "user"}
            return [
                StoredTurn(
                    message_id=m.reply_to_id or 0,
                    said_chars=len(said[m.reply_to_id or 0].content),
                    reply_chars=len(m.content),
                    prompt_tokens=m.prompt_tokens,
                    completion_tokens=m.completion_tokens,
                )
                for m in messages
                if m.role == "assistant"
            ]


@dataclass(frozen=True)
class StoredTurn:
    """A turn as the coach stored it, with the token usage the server reported."""

    message_id: int
    said_chars: int
    reply_chars: int
    prompt_tokens: int | None
    completion_tokens: int | None


@contextmanager
def coach_on_fake(pace: Pace = QUICK, **settings: Any) -> Iterator[tuple[FakeServer, Seeker]]:
    """A fake model, an app that talks to it and a seeker with a new conversation."""
    with tempfile.TemporaryDirectory() as folder, FakeServer(pace) as fake:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "benchmark",
                "COACH_DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.db'}",
                "COACH_PROVIDER": "openai",
                "OPENAI_API_KEY": "sk-benchmark",
                "OPENAI_BASE_URL": fake.url,
                "COACH_MODEL": "bench-model",
                "COACH_MODEL_ATTEMPTS": 1,
                "RATELIMIT_ENABLED": False,
                **settings,
            }
        )
        upgrade_schema(app)
        # The fake's answer to a plan request (it has none of its own): set here, not in
        # `fake_server.py`, since only this app's clock says which dates fit.
        fake_server.STRUCTURED_ANSWERS["action_plan"] = plan_answer(clock(app).today())
        # And to the record's reading with the summary's rewrite in one request.
        fake_server.STRUCTURED_ANSWERS["record_and_summary"] = {
            "reading": fake_server.STRUCTURED_ANSWERS["reflection_record"],
            "summary": fake_server.STRUCTURED_ANSWERS["rolling_summary"]["summary"],
        }
        client = app.test_client()
        token = (client.post("/api/v1/auth/guest").json or {})["token"]
        headers = {"Authorization": f"Bearer {token}"}
        session_id = (client.post("/api/v1/sessions", headers=headers).json or {})["id"]
        try:
            yield fake, Seeker(app, headers, session_id)
        finally:
            background(app).wait_idle()
            database(app).engine.dispose()
