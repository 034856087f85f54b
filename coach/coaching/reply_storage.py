"""Storing a reply: how it ended decides its status, and the row is written with
the reply mark cleared and the older turns folded into the summary, in one short
transaction (`store_reply`), however the reply ended (`coach.coaching.reply`).
"""

from __future__ import annotations

from enum import StrEnum

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coach.coaching import reply_mark
from coach.coaching.dialogue_state import forget_question, turn_choices
from coach.coaching.reply_mark import ReplyMark
from coach.coaching.transcript import fold_is_due, fold_old_turns
from coach.providers import Completion
from coach.safety.screening import FIXED_WORDS
from coach.storage.database import short_transaction
from coach.storage.models import MODEL_NAME_CHARS, CoachingSession, Message


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
    reply is in the stage of the message it answers: `stage`, if the caller read it."""
    status = stored_status(ending, bool(completion.text))
    with short_transaction(app) as db:
        coaching_session = db.get_one(CoachingSession, mark.session_id, with_for_update=True)
        reply_mark.clear(coaching_session, mark)
        if status is None:
            return None
        if stage is None:
            stage = db.get_one(Message, mark.message_id).stage
        reply = Message(
            coaching_session_id=coaching_session.id,
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
            choices=turn_choices(coaching_session, mark.message_id) if safety is None else None,
        )
        db.add(reply)
        db.flush()
        if safety in FIXED_WORDS:
            # Nothing here for a model to read into the record: a crisis and the
            # turns of careful mode stay out of it.
            coaching_session.refined_through_id = reply.id
            # Nor does the next message answer what the coach asked before it.
            coaching_session.pending = forget_question(coaching_session)
        if status == "complete":
            _fold_when_due(app, db, coaching_session)
        return reply


def _fold_when_due(app: Flask, db: Session, coaching_session: CoachingSession) -> None:
    """Fold the older turns into the summary once a chunk of them waits. The rows are
    counted first, so that the turns when no fold is due (most) load none: the turns a
    fold reads are never more than the rows counted."""
    recent, chunk = app.config["COACH_RECENT_MESSAGES"], app.config["COACH_FOLD_CHUNK"]
    past_summary = (
        Message.coaching_session_id == coaching_session.id,
        Message.id > coaching_session.summary_through_id,
    )
    waiting = db.scalar(select(func.count()).select_from(Message).where(*past_summary)) or 0
    if not fold_is_due(waiting, recent, chunk):
        return
    unfolded = db.scalars(select(Message).where(*past_summary).order_by(Message.id)).all()
    fold_old_turns(coaching_session, unfolded, recent, app.config["COACH_SUMMARY_MAX_CHARS"], chunk)
