"""A model's reading of the reflection record, for providers that can give one.

After a complete reply, the background shows the model the current record and
the recent turns; the model proposes entries to add and to remove. Its proposals
are checked, not trusted: a likely cause whose evidence is not found in the
seeker's own messages is dropped (`coach.guide.record_reading`). The keyword rules
have already filled the record. The session remembers the last message the model's reading covers
(`refined_through_id`), so that the next turn can tell whether that reading is
done: if it is not, the turn does it first (`bring_record_up_to_date`), and a
stage decision never depends on how fast the background was. If the model
cannot read the record, the rules' record stands and the turns count as read.
The same reading takes the model's second look for a crisis (`coach.safety`)
and rewrites the rolling summary (`coach.coaching.summary_writing`).
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import select

from coach.coaching.prompts import prompt_book
from coach.coaching.summary_writing import rewrite_summary
from coach.coaching.transcript import conversation_history, recent_window
from coach.errors import ModelUnavailable
from coach.guide.record import ReflectionRecord
from coach.guide.record_reading import apply_reading
from coach.providers import provider
from coach.safety.model_check import second_check
from coach.safety.screening import last_fixed_reply_id
from coach.storage.database import short_transaction
from coach.storage.models import CoachingSession, Message

log = logging.getLogger(__name__)


def bring_record_up_to_date(app: Flask, session_id: int, *, before_message_id: int) -> None:
    """Make sure the model has read every complete reply before this message."""
    with short_transaction(app, read_only=True) as db:
        refined_through = db.scalar(
            select(CoachingSession.refined_through_id).where(CoachingSession.id == session_id)
        )
        last_reply = db.scalar(
            select(Message.id)
            .where(Message.coaching_session_id == session_id, Message.id < before_message_id)
            .where(Message.role == "assistant", Message.status == "complete")
            .order_by(Message.id.desc())
            .limit(1)
        )
    if last_reply is not None and (refined_through or 0) < last_reply:
        refine_record(app, session_id, through_message_id=last_reply)


def refine_record(app: Flask, session_id: int, *, through_message_id: int) -> None:
    """Let the model read the recent turns up to a message and add what it finds."""
    with short_transaction(app, read_only=True) as db:
        coaching_session = db.get_one(CoachingSession, session_id)
        if coaching_session.refined_through_id >= through_message_id:
            return  # another worker read it already
        record = ReflectionRecord.model_validate(coaching_session.reflection)
        # Nothing from before the last fixed safety reply: a crisis stays out of the record.
        after = last_fixed_reply_id(db, session_id, before=through_message_id) or 0
        newest_first = db.scalars(
            select(Message)
            .where(Message.coaching_session_id == session_id)
            .where(Message.id > after, Message.id <= through_message_id)
            .order_by(Message.id.desc())
            .limit(app.config["COACH_RECENT_MESSAGES"])
        ).all()
    history = conversation_history(list(reversed(newest_first)))
    turns = recent_window(history, 0, len(history))
    seeker_words = [turn.content for turn in turns if turn.role == "user"]
    instructions = prompt_book(app).build_reflection_instructions()
    try:
        found = provider(app).extract_reflection(instructions, record, turns)
    except ModelUnavailable as exc:
        log.warning("reflection record not refined for session %s: %s", session_id, exc.code)
        found = None
    # The same reading takes the safety second look: done before the next turn too.
    second_check(
        app, session_id, through_message_id, prompt_book(app).build_crisis_check_instructions()
    )
    with short_transaction(app) as db:
        coaching_session = db.get_one(CoachingSession, session_id, with_for_update=True)
        if coaching_session.refined_through_id >= through_message_id:
            return
        if found is not None:
            current = ReflectionRecord.model_validate(coaching_session.reflection)
            applied = apply_reading(current, found, seeker_words)
            coaching_session.reflection = applied.record.model_dump(mode="json")
            if applied.unsupported:
                # A count only: the words themselves stay out of the log.
                log.info(
                    "record reading for session %s: %d proposed causes dropped, their "
                    "evidence not found in the seeker's words",
                    session_id,
                    applied.unsupported,
                )
        coaching_session.refined_through_id = through_message_id
    rewrite_summary(app, session_id)
