"""After a complete reply: a model that can read the conversation refines the
reflection record, in the background so that the seeker never waits for it.

The keyword rules have already filled the record when the turn began; what the
model finds is merged in. If the model cannot do it, the rules' record stands.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import select

from coach.conversation import conversation_history, recent_window
from coach.db import short_transaction
from coach.errors import ModelUnavailable
from coach.models import CoachingSession, Message
from coach.providers import provider
from coach.reflection import ReflectionRecord

log = logging.getLogger(__name__)


def refine_reflection(app: Flask, session_id: int) -> None:
    """Let the model read the recent turns and add what it finds to the record."""
    with short_transaction(app) as db:
        coaching_session = db.get_one(CoachingSession, session_id)
        record = ReflectionRecord.model_validate(coaching_session.reflection)
        newest_first = db.scalars(
            select(Message)
            .where(Message.coaching_session_id == session_id)
            .order_by(Message.id.desc())
            .limit(app.config["COACH_RECENT_MESSAGES"])
        ).all()
        history = conversation_history(list(reversed(newest_first)))
        turns = recent_window(history, 0, len(history))
    try:
        found = provider(app).extract_reflection(record, turns)
    except ModelUnavailable as exc:
        log.warning("reflection record not refined for session %s: %s", session_id, exc.code)
        return
    if found is None:
        return
    with short_transaction(app) as db:
        coaching_session = db.get_one(CoachingSession, session_id, with_for_update=True)
        current = ReflectionRecord.model_validate(coaching_session.reflection)
        coaching_session.reflection = current.merge(found).model_dump(mode="json")
