"""The rolling summary rewritten by a model, in the background.

A complete reply that fills the recent window folds its oldest chunk of turns into
the summary as short deterministic notes (`coach.coaching.transcript`). When the provider can
write summaries, the record's reading (`coach.coaching.record_refinement`) then
asks it to rewrite the summary with those notes' turns in full; the notes stay
as the fallback whenever the model fails or is not configured. The rewrite is
kept only if the summary did not change meanwhile: a turn folded in between is
summarised again by the next reading.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import select

from coach.coaching.prompts import prompt_book
from coach.coaching.transcript import (
    conversation_history,
    has_turn_notes,
    recent_window,
    turn_notes,
)
from coach.errors import ModelUnavailable
from coach.providers import provider
from coach.safety.screening import last_fixed_reply_id
from coach.storage.database import short_transaction
from coach.storage.models import CoachingSession, Message

log = logging.getLogger(__name__)


def rewrite_summary(app: Flask, session_id: int) -> None:
    """Let the model fold the summary's turn notes into a summary of its own."""
    chosen = provider(app)
    if not chosen.writes_summary:
        return
    max_chars = app.config["COACH_SUMMARY_MAX_CHARS"]
    with short_transaction(app, read_only=True) as db:
        coaching_session = db.get_one(CoachingSession, session_id)
        summary = coaching_session.summary
        if not has_turn_notes(summary):
            return
        through = coaching_session.summary_through_id
        # As with the record: no turn from before the last fixed safety reply.
        after = last_fixed_reply_id(db, session_id, before=through + 1) or 0
        # The turns the newest notes stand for; older notes stay as they are.
        newest_first = db.scalars(
            select(Message)
            .where(Message.coaching_session_id == session_id)
            .where(Message.id > after, Message.id <= through)
            .order_by(Message.id.desc())
            .limit(
                min(
                    turn_notes(summary),
                    app.config["COACH_RECENT_MESSAGES"] + app.config["COACH_FOLD_CHUNK"],
                )
            )
        ).all()
    history = conversation_history(list(reversed(newest_first)))
    instructions = prompt_book(app).render("summary.j2", max_chars=max_chars)
    try:
        written = chosen.write_summary(
            instructions, summary, recent_window(history, 0, len(history))
        )
    except ModelUnavailable as exc:
        log.warning("summary of session %s not rewritten: %s", session_id, exc.code)
        return
    if not written or len(written) > max_chars:
        return  # the notes stand
    with short_transaction(app) as db:
        coaching_session = db.get_one(CoachingSession, session_id, with_for_update=True)
        if coaching_session.summary == summary:
            coaching_session.summary = written
