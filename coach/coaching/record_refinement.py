"""A model's reading of the reflection record, for providers that can give one.

After a complete reply, the background job for the session (`refine_session`)
looks at the turns the model has not read. Once a stage has ended
(`COACH_RECORD_READING = "stage_change"`, the default; `"every_turn"` reads after
each turn, one more model request a turn) it shows the model the current record and
that stage's recent turns; the model proposes entries to add and to remove. The
keyword rules fill the record on every turn in between. The model's proposals are
checked, not trusted: a likely cause whose evidence is not found in the seeker's
own messages is dropped (`coach.guide.record_reading`). The session remembers the
last message the model has looked at (`refined_through_id`), so that the next turn
can tell whether that work is done: if it is not (the background was slow, or its
queue was full), the turn does it first (`bring_record_up_to_date`), and a stage
decision never depends on how fast the background was. If the model cannot read the
record, the rules' record stands and the turns count as read. The same job takes
the model's second look for a crisis after every coached turn (`coach.safety`) and
has the rolling summary rewritten after a fold (`coach.coaching.summary_writing`):
once a stage ends, in the reading's own request (`coach.coaching.combined_reading`).
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from coach.coaching.combined_reading import read_with_summary
from coach.coaching.prompts import prompt_book
from coach.coaching.summary_writing import keep_summary, pending_summary, rewrite_summary
from coach.coaching.transcript import conversation_history, recent_window
from coach.errors import ModelUnavailable
from coach.guide.record import ReflectionRecord
from coach.guide.record_reading import RecordReading, apply_reading
from coach.providers import provider
from coach.safety.model_check import second_check
from coach.safety.screening import last_fixed_reply_id
from coach.storage.database import short_transaction
from coach.storage.models import MESSAGES_TABLE, CoachingSession, Message

log = logging.getLogger(__name__)

# `COACH_RECORD_READING`: a reading after every turn, not only once a stage ends.
EVERY_TURN = "every_turn"


def refine_session(app: Flask, session_id: int) -> None:
    """The background job of a session: bring the model's reading up to its newest
    complete reply. It looks the reply up when it runs, so one pending job covers
    every turn finished while it waited."""
    bring_record_up_to_date(app, session_id, before_message_id=None)


def bring_record_up_to_date(app: Flask, session_id: int, *, before_message_id: int | None) -> None:
    """Make sure the model has read every complete reply before this message (every
    one, with None)."""
    with short_transaction(app, read_only=True) as db:
        refined_through = db.scalar(
            select(CoachingSession.refined_through_id).where(CoachingSession.id == session_id)
        )
        unread = unread_reply(db, session_id, refined_through or 0, before_message_id)
    if unread is not None:
        refine_record(app, session_id, through_message_id=unread)


_messages = MESSAGES_TABLE.c

# Every turn asks this before it is settled: built once (building costs more than
# running it).
_LAST_REPLY = (
    select(_messages.id)
    .where(_messages.coaching_session_id == bindparam("session_id"))
    .where(_messages.role == "assistant", _messages.status == "complete")
    .order_by(_messages.id.desc())
    .limit(1)
)
_LAST_REPLY_BEFORE = _LAST_REPLY.where(_messages.id < bindparam("before"))


def unread_reply(
    db: Session, session_id: int, refined_through_id: int, before_message_id: int | None
) -> int | None:
    """The newest complete reply before the message (before none, with None) that
    the model has not read yet; None when it has read them all."""
    if before_message_id is None:
        last_reply = db.scalar(_LAST_REPLY, {"session_id": session_id})
    else:
        last_reply = db.scalar(
            _LAST_REPLY_BEFORE, {"session_id": session_id, "before": before_message_id}
        )
    return last_reply if last_reply is not None and refined_through_id < last_reply else None


def refine_record(app: Flask, session_id: int, *, through_message_id: int) -> None:
    """Let the model read the turns up to a message and add what it finds, when a
    reading is due (with the summary's rewrite, when its notes wait for one); take the
    safety second look at every turn."""
    chosen = provider(app)
    # Once a stage ends the summary's notes are rewritten in the same request; with a
    # reading every turn, each fold's rewrite follows it as a request of its own.
    combine = chosen.writes_summary and app.config["COACH_RECORD_READING"] != EVERY_TURN
    with short_transaction(app, read_only=True) as db:
        coaching_session = db.get_one(CoachingSession, session_id)
        if coaching_session.refined_through_id >= through_message_id:
            return  # another worker read it already
        record = ReflectionRecord.model_validate(coaching_session.reflection)
        due = turns_to_read(app, db, coaching_session, through_message_id)
        pending = pending_summary(app, db, coaching_session) if due and combine else None
    history = conversation_history(due)
    turns = recent_window(history, 0, len(history))
    seeker_words = [turn.content for turn in turns if turn.role == "user"]
    found: RecordReading | None = None
    written: str | None = None
    if turns and pending is not None:
        answer = read_with_summary(app, session_id, record, turns, pending)
        found, written = answer.reading, answer.summary
    elif turns:
        instructions = prompt_book(app).build_reflection_instructions()
        try:
            found = chosen.extract_reflection(instructions, record, turns)
        except ModelUnavailable as exc:
            log.warning("reflection record not refined for session %s: %s", session_id, exc.code)
    # The safety second look, after every coached turn (issue 6): done before the next
    # turn too, whether or not the record is read.
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
    if pending is not None and written is not None:
        keep_summary(app, session_id, pending, written)
    else:
        # Between readings the notes wait, unless they outgrew their cap.
        rewrite_summary(app, session_id, only_if_overdue=combine)


def turns_to_read(
    app: Flask, db: Session, coaching_session: CoachingSession, through_message_id: int
) -> list[Message]:
    """The messages the model reads into the record now, oldest first: none unless a
    reading is due (after every turn, or once a stage has ended)."""
    every_turn = app.config["COACH_RECORD_READING"] == EVERY_TURN
    if not every_turn and not stage_changed(db, coaching_session, through_message_id):
        return []
    # A stage's worth of turns, bounded: the recent ones and a chunk before them.
    recent = app.config["COACH_RECENT_MESSAGES"]
    shown = recent if every_turn else recent + app.config["COACH_FOLD_CHUNK"]
    # Nothing from before the last fixed safety reply: a crisis stays out of the record.
    after = last_fixed_reply_id(db, coaching_session.id, before=through_message_id) or 0
    newest_first = db.scalars(
        select(Message)
        .where(Message.coaching_session_id == coaching_session.id)
        .where(Message.id > after, Message.id <= through_message_id)
        .order_by(Message.id.desc())
        .limit(shown)
    ).all()
    return list(reversed(newest_first))


def stage_changed(db: Session, coaching_session: CoachingSession, through_message_id: int) -> bool:
    """Whether the conversation changed stage after the last message the model read:
    a stage's turns are read once it ends (its record is what the next stage and
    the plan build on); the keyword rules fill the record in between."""
    newest = db.scalar(select(Message.stage).where(Message.id == through_message_id))
    read_through = coaching_session.refined_through_id
    if read_through:
        return newest != db.scalar(select(Message.stage).where(Message.id == read_through))
    # Nothing read yet: whether the conversation has left the stage it began in.
    first = db.scalar(
        select(Message.stage)
        .where(Message.coaching_session_id == coaching_session.id)
        .order_by(Message.id)
        .limit(1)
    )
    return newest != first
