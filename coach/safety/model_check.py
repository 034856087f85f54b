"""A model's second look for a crisis, after the rules, where a model is configured.

It reads the seeker's latest messages once a coached turn is over (with the
model's reading of the record, so that the next turn never depends on timing) and
can only add what the rules missed: a crisis flag and careful mode from the next
turn on. It never clears a flag, and if it fails, the rules' decision stands. So it
is not asked while the session is in careful mode already, and not after a turn the
rules answered with fixed words (`coach.coaching.reply`): in either case the flag is
set. Otherwise it is one request after every coached turn.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import select

from coach.errors import ModelUnavailable
from coach.providers import provider
from coach.safety.screening import flag_crisis, in_careful_mode, last_fixed_reply_id
from coach.storage.database import short_transaction
from coach.storage.models import CoachingSession, Message

log = logging.getLogger(__name__)

# The seeker's messages the model reads, newest last: enough for a statement
# spread over a few turns.
MESSAGES_READ = 3


def second_check(app: Flask, session_id: int, through_message_id: int, instructions: str) -> None:
    """Flag the session as in crisis if the model sees one the rules did not."""
    chosen = provider(app)
    if not chosen.screens_for_crisis:
        return
    if in_careful_mode(app, session_id):
        return  # the look could only add the flag the session has
    with short_transaction(app, read_only=True) as db:
        # Only what came after the last fixed safety reply: a crisis already answered
        # (and careful mode since left) must not flag the session again.
        after = last_fixed_reply_id(db, session_id, before=through_message_id) or 0
        newest_first = db.scalars(
            select(Message.content)
            .where(Message.coaching_session_id == session_id, Message.role == "user")
            .where(Message.id > after, Message.id <= through_message_id)
            .order_by(Message.id.desc())
            .limit(MESSAGES_READ)
        ).all()
    if not newest_first:
        return
    try:
        crisis = chosen.check_for_crisis(instructions, list(reversed(newest_first)))
    except ModelUnavailable as exc:
        log.warning("no second safety check for session %s: %s", session_id, exc.code)
        return
    if not crisis:
        return
    with short_transaction(app) as db:
        coaching_session = db.get_one(CoachingSession, session_id, with_for_update=True)
        if coaching_session.careful_since is None:
            flag_crisis(db, coaching_session, "crisis_model", "model")
