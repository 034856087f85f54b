"""Plan helpers shared by the plan tests: a fixed day, a seeker whose record names a
cause, and a model's plan answer that keeps the rules."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from flask import Flask

from coach.coaching.clock import EXTENSION_KEY, FixedClock
from coach.guide.record import ReflectionRecord
from coach.storage.database import database
from coach.storage.models import CoachingSession
from tests.conftest import ApiActions

TODAY = date(2025, 3, 3)  # a Monday


def fix_today(app: Flask, day: date = TODAY) -> None:
    app.extensions[EXTENSION_KEY] = FixedClock(day)


def set_record(app: Flask, session_id: int, record: ReflectionRecord) -> None:
    with database(app).make_session() as db, db.begin():
        db.get_one(CoachingSession, session_id).reflection = record.model_dump(mode="json")


SQL_RECORD = ReflectionRecord.model_validate(
    {
        "emotions": ["disappointed"],
        "likely_causes": [{"cause": "skills_gap", "evidence": "They said my SQL was too thin."}],
        "feedback": ["They said my SQL was too thin."],
        "goals": ["I want to get solid at SQL joins."],
        "support": ["My sister Ana"],
    }
)


def model_plan(**changes: Any) -> dict[str, Any]:
    """A plan as a model might answer for SQL_RECORD, within a four-week horizon."""
    plan: dict[str, Any] = {
        "headline": "Four weeks of steady steps on SQL.",
        "goals": [
            {
                "title": "Get solid at SQL joins",
                "why": "You said your SQL was too thin.",
                "category": "skills",
                "steps": [
                    {"title": "Pick one SQL course", "due": (TODAY + timedelta(2)).isoformat()},
                    {
                        "title": "Finish its joins module",
                        "due": (TODAY + timedelta(16)).isoformat(),
                    },
                ],
                "resources": [{"kind": "course", "name": "An SQL course", "url": None}],
            },
            {
                "title": "Walk three times a week",
                "why": "Steady energy helps.",
                "category": "wellbeing",
                "steps": [{"title": "Plan the walks", "due": (TODAY + timedelta(1)).isoformat()}],
                "resources": [],
            },
        ],
        "routine": ["Search on Tuesday and Thursday mornings", "Sleep by 11"],
        "support": ["My sister Ana"],
    }
    plan.update(changes)
    return plan


def as_json(plan: dict[str, Any]) -> str:
    return json.dumps(plan)


def make_plan(api: ApiActions, token: str, session_id: int, **body: Any) -> Any:
    return api.client.post(
        f"/api/v1/sessions/{session_id}/plan", headers=api.headers(token), json=body or None
    )
