"""Storing a reply: how it ended decides its status, and the row is written with
the reply mark cleared and the older turns folded into the summary, in one short
transaction (`store_reply`), however the reply ended (`coach.coaching.reply`).
"""

from __future__ import annotations

from enum import StrEnum

from flask import Flask
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from coach.coaching import reply_mark
from coach.coaching.answers import keep_an_answer
from coach.coaching.dialogue_state import choices_for, forget_question
from coach.coaching.reading import dialogue_rules
from coach.coaching.reply_mark import ReplyMark
from coach.coaching.transcript import fold_is_due, fold_old_turns
from coach.guide.frameworks import frameworks
from coach.guide.record import ReflectionRecord
from coach.providers import Completion
from coach.safety.screening import FIXED_WORDS
from coach.storage.database import short_transaction
from coach.storage.models import (
    MESSAGES_TABLE,
    MODEL_NAME_CHARS,
    SESSIONS_TABLE,
    CoachingSession,
    Message,
    utcnow,
)
from coach.storage.turn_rows import insert_message

_sessions, _messages = SESSIONS_TABLE.c, MESSAGES_TABLE.c

# Every reply ends with these, so they are built once, and run as plain statements
# rather than through the ORM's unit of work: building a statement and flushing
# cost more than running it.
_CLEAR_MARK_AND_READ = reply_mark.CLEAR_MARK.returning(
    _sessions.pending, _sessions.summary_through_id
)
_STAGE_OF = select(_messages.stage).where(_messages.id == bindparam("message_id"))
_WAITING = (
    select(func.count())
    .where(_messages.coaching_session_id == bindparam("session_id"))
    .where(_messages.id > bindparam("after"))
)


class Ending(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CLIENT_GONE = "client_gone"


def stored_status(ending: Ending, has_text: bool) -> str | None:
    """The status a reply is stored with; None when there is nothing to keep."""
    if ending is Ending.COMPLETE:
        return "complete"
    if ending is Ending.FAILED:
        return "failed"
    return "partial" if has_text else None


def read_message(app: Flask, mark: ReplyMark) -> Message:
    """The marked message as stored: a retry answers it in the stage it was given."""
    with short_transaction(app, read_only=True) as db:
        return db.get_one(Message, mark.message_id)


def store_reply(
    app: Flask,
    mark: ReplyMark,
    completion: Completion,
    ending: Ending,
    error: str | None,
    safety: str | None = None,
    discloses: bool = False,
    stage: str | None = None,
) -> Message | None:
    """Store the reply as `ending` says and clear the mark, in one transaction. The
    reply is in the stage of the message it answers: `stage`, if the caller read it.

    Every reply of a turn ends here, so it is written with plain statements rather
    than through the ORM's unit of work (half the time this transaction took):
    one UPDATE clears the mark and reads back what the reply needs, one INSERT
    stores it, and only the rare reply that changes more of the session (fixed
    words, a fold) loads it."""
    status = stored_status(ending, bool(completion.text))
    with short_transaction(app) as db:
        now = utcnow()
        activity_at = now if status is not None else None
        session_row = db.execute(
            _CLEAR_MARK_AND_READ, reply_mark.clear_parameters(mark, activity_at=activity_at)
        ).one()
        if status is None:
            return None
        if stage is None:
            stage = db.scalar(_STAGE_OF, {"message_id": mark.message_id})
        reply = insert_message(
            db,
            coaching_session_id=mark.session_id,
            role="assistant",
            content=completion.text,
            stage=stage,
            status=status,
            reply_to_id=mark.message_id,
            model=(completion.model or "")[:MODEL_NAME_CHARS] or None,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            latency_ms=completion.latency_ms,
            error=error,
            safety=safety,
            discloses=discloses,
            # The quick replies the dialogue decided for this turn; the safety
            # rules' own words offer none.
            choices=None if safety else choices_for(session_row.pending, mark.message_id),
            created_at=now,
        )
        if safety in FIXED_WORDS:
            coaching_session = db.get_one(CoachingSession, mark.session_id)
            kept = ReflectionRecord()
            if safety == "distress":
                # Distress is answered with care, not with the record; a yes in it to
                # what the coach proposed, or a feeling picked, still counts (a crisis
                # stays out of it).
                said = db.get_one(Message, mark.message_id).content
                kept = keep_an_answer(coaching_session, said, dialogue_rules(app), frameworks(app))
            # Nothing here for a model to read into the record: a crisis and the
            # turns of careful mode stay out of it.
            coaching_session.refined_through_id = reply.id
            # Nor does the next message answer what the coach asked before it.
            coaching_session.pending = forget_question(
                coaching_session, checked_in=safety == "distress", kept=kept
            )
        if status == "complete":
            _fold_when_due(app, db, mark.session_id, session_row.summary_through_id)
        return reply


def _fold_when_due(app: Flask, db: Session, session_id: int, summary_through_id: int) -> None:
    """Fold the older turns into the summary once a chunk of them waits. The rows are
    counted first, so that the turns when no fold is due (most) load none: the turns a
    fold reads are never more than the rows counted."""
    recent, chunk = app.config["COACH_RECENT_MESSAGES"], app.config["COACH_FOLD_CHUNK"]
    past_summary = {"session_id": session_id, "after": summary_through_id}
    if not fold_is_due(db.scalar(_WAITING, past_summary) or 0, recent, chunk):
        return
    coaching_session = db.get_one(CoachingSession, session_id)
    unfolded = db.scalars(
        select(Message)
        .where(Message.coaching_session_id == session_id, Message.id > summary_through_id)
        .order_by(Message.id)
    ).all()
    fold_old_turns(coaching_session, unfolded, recent, app.config["COACH_SUMMARY_MAX_CHARS"], chunk)
