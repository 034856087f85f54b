"""Hold the scripted conversations with the real app, as a seeker's client would.

One app in guided mode on a fresh SQLite file in a temporary folder, brought up to
date by the migrations; each conversation gets a guest of its own and a new
session, posts its turns as JSON and reads the replies, their stages and choices,
and at the end the session's reflection record. Nothing is mocked: what the suite
scores is what a seeker of the API would have seen.
"""

from __future__ import annotations

import secrets
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from coach.coaching.background import background
from coach.guide.frameworks import frameworks
from coach.quality.cases import Conversation
from coach.quality.scoring import FrameworkItem, Scorecard, framework_items, score
from coach.quality.transcripts import Exchange, Transcript
from coach.storage.database import database, upgrade_schema

AppFactory = Callable[[dict[str, Any]], Flask]
API = "/api/v1"


class SuiteError(RuntimeError):
    """The app could not be driven at all (no guest, no session)."""


@dataclass
class SuiteRun:
    transcripts: list[Transcript]
    items: list[FrameworkItem]
    language_lines: dict[str, str]

    def score(self) -> Scorecard:
        return score(self.transcripts, self.items, self.language_lines)


def eval_config(database_url: str) -> dict[str, Any]:
    """Settings that make an app for the suite: guided mode on the given database,
    no rate limits (the suite sends many messages quickly), a throwaway key."""
    return {
        "COACH_DATABASE_URL": database_url,
        "COACH_PROVIDER": "guided",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "RATELIMIT_ENABLED": False,
    }


def run_suite(make_app: AppFactory, conversations: Iterable[Conversation]) -> SuiteRun:
    """Hold every conversation with one fresh app; the database goes with the run."""
    with tempfile.TemporaryDirectory(prefix="coach-eval-") as folder:
        app = make_app(eval_config(f"sqlite:///{Path(folder) / 'eval.db'}"))
        upgrade_schema(app)
        try:
            client = app.test_client()
            transcripts = [hold(app, client, conversation) for conversation in conversations]
            return SuiteRun(
                transcripts, framework_items(frameworks(app)), fixed_language_lines(app)
            )
        finally:
            background(app).wait_idle()
            database(app).engine.dispose()


def hold(app: Flask, client: FlaskClient, conversation: Conversation) -> Transcript:
    """One conversation, turn by turn, as a new guest in a new session."""
    token = _created(client.post(f"{API}/auth/guest"), "a guest")["token"]
    headers = {"Authorization": f"Bearer {token}"}
    session = _created(client.post(f"{API}/sessions", headers=headers), "a session")
    url = f"{API}/sessions/{session['id']}"
    stage = str(session["stage"])
    transcript = Transcript(conversation)
    for turn in conversation.turns:
        response = client.post(f"{url}/messages", headers=headers, json={"content": turn.say})
        # Work after a reply (the record's refinement) must land before the next turn,
        # as it would while a person types.
        background(app).wait_idle()
        body = response.get_json(silent=True) or {}
        if response.status_code != 201:
            error = f"HTTP {response.status_code} {body.get('error', body)!s:.200}"
            transcript.exchanges.append(Exchange(turn.say, "", stage, stage, error=error))
            continue
        reply = body["reply"]
        transcript.exchanges.append(
            Exchange(
                said=turn.say,
                reply=str(reply["content"]),
                stage_before=stage,
                stage_after=str(reply["stage"]),
                choices=tuple(str(choice) for choice in reply.get("choices") or ()),
                safety=(reply.get("safety") or {}).get("kind"),
            )
        )
        stage = str(reply["stage"])
    shown = client.get(url, headers=headers)
    if shown.status_code != 200:
        raise SuiteError(f"GET {url} answered {shown.status_code}")
    transcript.reflection = (shown.get_json() or {}).get("reflection")
    return transcript


def _created(response: Any, what: str) -> dict[str, Any]:
    if response.status_code != 201:
        raise SuiteError(f"the app did not create {what}: HTTP {response.status_code}")
    body: dict[str, Any] = response.get_json()
    return body


def fixed_language_lines(app: Flask) -> dict[str, str]:
    """Guided mode's fixed line per language, from `[languages.<code>] line` in
    prompts/guided.toml; none there yet makes every such check fail, by name."""
    path = Path(app.config["COACH_PROMPTS_DIR"]) / "guided.toml"
    languages = tomllib.loads(path.read_text("utf-8")).get("languages", {})
    return {
        code: str(table["line"])
        for code, table in languages.items()
        if isinstance(table, dict) and table.get("line")
    }
