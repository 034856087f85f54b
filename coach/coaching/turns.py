"""How a turn is answered, from the seeker's message to the stored reply.

1. `begin_turn` stores the seeker's message before anything else can fail: in one
   short transaction it locks the session, refuses a message while another reply
   is being written (409, nothing stored), and commits the message together with
   the session's reply mark (`coach.coaching.reply_mark`). `begin_retry` claims
   the mark for the last message again when its reply failed or broke off. Both
   hand back a `Reply` (`coach.coaching.reply`), which owns the rest.
2. The safety screen (`coach.safety.screening`) and `settle_turn`, in which the
   dialogue (`coach.coaching.dialogue`) reads the new message against what the coach
   asked last: the record, the stage, and the coach's move for this turn, from
   stored state only. Both run in the transaction that stores the message when
   they can (`_open_turn`), which then builds the provider's prompt
   (`coach.coaching.prompts`) too: one write before the model is asked, not three.
3. The `Reply` builds the prompt if that was not done, takes the reply (streamed,
   or whole for a JSON answer), stores it whatever its status, and releases the mark. A message that
   asks for the plan is answered by the plan writer the caller hands in instead.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.orm import Session

from coach.coaching.dialogue import decide_turn
from coach.coaching.keyword_rules import keyword_rules
from coach.coaching.prompts import prompt_for
from coach.coaching.reading import dialogue_rules
from coach.coaching.record_refinement import unread_reply
from coach.coaching.reply import OpenedTurn, PlanWriter, Reply, Settled
from coach.coaching.reply_mark import ReplyMark, claim, refuse_while_replying, take_mark
from coach.coaching.sessions import lock_owned_session
from coach.errors import Conflict, InvalidInput, PayloadTooLarge
from coach.guide.frameworks import frameworks
from coach.providers import provider
from coach.safety.rules import safety_rules
from coach.safety.screening import screen_message
from coach.storage.database import short_transaction
from coach.storage.models import DEFAULT_TITLE, MAX_TITLE_CHARS, CoachingSession, Message, utcnow
from coach.storage.text import require_storable
from coach.storage.turn_rows import insert_message, write_changes

log = logging.getLogger(__name__)

TITLE_WORDS = 8


def validate_content(raw: object, max_chars: int) -> str:
    if not isinstance(raw, str):
        raise InvalidInput('"content" must be a string.')
    if not raw.strip():
        raise InvalidInput("The message is empty.", code="empty_message")
    # A NUL or a lone surrogate: one database or both cannot store it.
    require_storable(raw, "The message")
    if len(raw) > max_chars:
        raise PayloadTooLarge(
            f"The message is {len(raw)} characters; the most is {max_chars}.",
            code="message_too_long",
        )
    return raw


def begin_turn(
    app: Flask,
    user_id: int,
    session_id: int,
    content: str,
    *,
    write_plan: PlanWriter | None = None,
) -> Reply:
    """Store the seeker's message with the reply mark; the reply answers it
    (`write_plan` writes the plan when the message asks for it)."""
    with short_transaction(app) as db:
        # The row lock makes the check, the message and the mark one decision.
        coaching_session = lock_owned_session(db, user_id, session_id)
        refuse_while_replying(coaching_session)  # 409 before anything is stored
        now = utcnow()
        titled: dict[str, str] = {}
        if coaching_session.title == DEFAULT_TITLE and _is_first_message(db, session_id):
            titled["title"] = _title_from(content)
        # One UPDATE of the session: the mark, the message's activity and its title.
        token = take_mark(db, coaching_session, last_activity_at=now, **titled)
        message = insert_message(
            db,
            coaching_session_id=session_id,
            role="user",
            content=content,
            stage=coaching_session.stage,
            status="complete",
            created_at=now,
        )
        mark = ReplyMark(session_id, message.id, token)
        opened = _open_turn(app, db, coaching_session, message)
    return Reply(app, mark, settle=settle_turn, write_plan=write_plan, opened=opened)


def _open_turn(
    app: Flask, db: Session, coaching_session: CoachingSession, message: Message
) -> OpenedTurn | None:
    """Screen the new message, settle its turn and build the provider's prompt in the
    transaction that stores it, as far as that can be done without a model: with the
    model's reading of earlier turns still to come (`Reply`), the turn is settled
    after it.

    Under concurrent turns every write waits for the others (SQLite has one writer at
    a time), so each one less before the model is asked is time off the seeker's
    wait. The three run in one savepoint: if any fails, what they wrote is undone,
    the message is stored all the same, and the `Reply` screens (failing closed),
    reads the message, settles and builds the prompt on its own (a rolled-back
    savepoint leaves the copies here out of date, so they are expired and not handed
    on)."""
    try:
        with db.begin_nested():
            rules = safety_rules(app)
            route = screen_message(db, rules, coaching_session, message, first_time=True)
            settled, prompt = None, None
            if route.kind == "coach" and _record_read_before(app, db, coaching_session, message):
                settled = _settle(app, db, coaching_session, message)
                if not settled.writes_plan:  # the plan writer needs no prompt
                    prompt = prompt_for(app, db, coaching_session, message)
    except Exception:
        log.exception("could not screen and settle message %s as it was stored", message.id)
        # The settled values were written without a flush and marked as stored: the
        # savepoint's rollback undid them in the database, not on these copies.
        db.expire(coaching_session)
        db.expire(message)
        return None
    return OpenedTurn(message, route, settled, prompt)


def _record_read_before(
    app: Flask, db: Session, coaching_session: CoachingSession, message: Message
) -> bool:
    """Whether the record a decision reads is complete: no model reads it, or the
    model has read every turn before this message."""
    if not provider(app).refines_record:
        return True
    refined_through = coaching_session.refined_through_id
    return unread_reply(db, coaching_session.id, refined_through, message.id) is None


def begin_retry(
    app: Flask, user_id: int, session_id: int, *, write_plan: PlanWriter | None = None
) -> Reply:
    """Answer the last seeker message again, if its reply failed, broke off or never came."""
    with short_transaction(app) as db:
        coaching_session = lock_owned_session(db, user_id, session_id)
        refuse_while_replying(coaching_session)
        messages = list(db.scalars(Message.in_session(session_id)))
        last_user = next((m for m in reversed(messages) if m.role == "user"), None)
        if last_user is None:
            raise Conflict("There is no message to answer again.", code="nothing_to_retry")
        if any(m.reply_to_id == last_user.id and m.status == "complete" for m in messages):
            raise Conflict(
                "The last message has a complete reply already.", code="nothing_to_retry"
            )
        mark = claim(db, coaching_session, last_user.id)
    return Reply(app, mark, write_plan=write_plan)


def _is_first_message(db: Session, session_id: int) -> bool:
    return db.scalar(Message.in_session(session_id).limit(1)) is None


def _title_from(content: str) -> str:
    words = content.split()
    title = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"


def settle_turn(app: Flask, mark: ReplyMark) -> Settled:
    """Decide the coach's move for the new message: record, stage and what is asked.

    The record a decision reads includes the model's reading of every earlier
    turn (the `Reply` has it done first if the background has not finished it),
    so the same stored conversation always gets the same decision.
    """
    with short_transaction(app) as db:
        message = db.get_one(Message, mark.message_id)
        coaching_session = db.get_one(CoachingSession, mark.session_id, with_for_update=True)
        return _settle(app, db, coaching_session, message)


def _settle(
    app: Flask, db: Session, coaching_session: CoachingSession, message: Message
) -> Settled:
    move = decide_turn(
        coaching_session,
        message.content,
        frameworks(app),
        keyword_rules(app),
        dialogue_rules(app),
        uses_model=provider(app).uses_model,
        message_id=message.id,
    )
    message.stage = move.stage
    write_changes(db, coaching_session, message)
    return Settled(message, move.writes_plan)
