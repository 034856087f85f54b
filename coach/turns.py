"""How a turn is answered, from the seeker's message to the stored reply.

1. `begin_turn` stores a message that `validate_content` has passed: with the
   session row locked it refuses a message while another reply is being written
   (409, nothing stored), else commits the message together with the session's
   reply mark (`coach.reply_mark`). Then it reads the message into the reflection
   record and decides the stage. `begin_retry` marks a message answered again.
2. `answer_turn` streams the provider's reply as events. No database connection
   is held while the model talks: the prompt is built in one short transaction,
   the reply stored in another (complete, partial when it broke off or the client
   went away, or failed), and the mark cleared with it, or on its own when even
   storing fails.
3. After a complete reply, `coach.refinement` refines the reflection record in
   the background.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coach.background import background
from coach.conversation import TurnPrompt, decide_stage, fold_old_turns, recent_window
from coach.db import short_transaction
from coach.errors import Conflict, InvalidInput, ModelUnavailable, PayloadTooLarge
from coach.frameworks import frameworks
from coach.models import (
    DEFAULT_TITLE,
    MAX_TITLE_CHARS,
    MODEL_NAME_CHARS,
    CoachingSession,
    Message,
)
from coach.prompting import prompt_book
from coach.providers import Completion, provider
from coach.refinement import refine_reflection
from coach.reflection import ReflectionRecord, keyword_rules
from coach.reply_mark import (
    RENEW_EVERY_SECONDS,
    ReplyMark,
    claim,
    clear,
    refuse_while_replying,
    release,
    renew,
)
from coach.representations import message_json

log = logging.getLogger(__name__)

TITLE_WORDS = 8


@dataclass(frozen=True)
class Turn:
    """A seeker message about to be answered, and the mark that reserves the reply."""

    mark: ReplyMark
    user_message: dict[str, Any]


@dataclass(frozen=True)
class TurnEvent:
    """One step of a turn, as sent to the browser: message, delta, done or error."""

    name: str
    data: dict[str, Any]


def validate_content(raw: object, max_chars: int) -> str:
    if not isinstance(raw, str):
        raise InvalidInput('"content" must be a string.')
    if not raw.strip():
        raise InvalidInput("The message is empty.", code="empty_message")
    if "\x00" in raw:
        # PostgreSQL cannot store it; refusing it here keeps both databases alike.
        raise InvalidInput("The message contains a NUL character.", code="invalid_characters")
    if len(raw) > max_chars:
        raise PayloadTooLarge(
            f"The message is {len(raw)} characters; the most is {max_chars}.",
            code="message_too_long",
        )
    return raw


def begin_turn(app: Flask, db: Session, coaching_session: CoachingSession, content: str) -> Turn:
    """Store the seeker's message with the reply mark, then settle its stage."""
    message, mark = _accept_message(db, coaching_session, content)
    try:
        user_message = _prepare_turn(app, message.id)
    except Exception:
        release(app, mark)  # the message stays stored; a retry can answer it
        raise
    return Turn(mark, user_message)


def _accept_message(
    db: Session, coaching_session: CoachingSession, content: str
) -> tuple[Message, ReplyMark]:
    # Lock the row, so that the check, the message and the mark are one decision.
    db.refresh(coaching_session, with_for_update=True)
    refuse_while_replying(coaching_session)  # 409 before anything is stored
    if coaching_session.title == DEFAULT_TITLE and _is_first_message(db, coaching_session):
        coaching_session.title = _title_from(content)
    message = Message(
        # By id, not by relationship: appending to `messages` would load them all.
        coaching_session_id=coaching_session.id,
        role="user",
        content=content,
        stage=coaching_session.stage,
        status="complete",
    )
    db.add(message)
    db.flush()
    mark = claim(coaching_session, message.id)
    db.commit()
    return message, mark


def _is_first_message(db: Session, coaching_session: CoachingSession) -> bool:
    return db.scalar(Message.in_session(coaching_session.id).limit(1)) is None


def _title_from(content: str) -> str:
    words = content.split()
    title = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"


def _prepare_turn(app: Flask, message_id: int) -> dict[str, Any]:
    """Read the message into the reflection record and settle the stage of its turn."""
    with short_transaction(app) as db:
        message = db.get_one(Message, message_id)
        coaching_session = db.get_one(
            CoachingSession, message.coaching_session_id, with_for_update=True
        )
        record = ReflectionRecord.model_validate(coaching_session.reflection)
        record = record.merge(keyword_rules(app).read(message.content))
        decision = decide_stage(coaching_session, record, message.content, frameworks(app))
        coaching_session.reflection = record.model_dump(mode="json")
        message.stage = decision.stage
        return message_json(message)


def begin_retry(app: Flask, coaching_session_id: int) -> Turn:
    """The last seeker message, if its reply failed, broke off or never came, marked
    as being answered again."""
    with short_transaction(app) as db:
        coaching_session = db.get_one(CoachingSession, coaching_session_id, with_for_update=True)
        messages = list(db.scalars(Message.in_session(coaching_session_id)))
        last_user = next((m for m in reversed(messages) if m.role == "user"), None)
        if last_user is None:
            raise Conflict("There is no message to answer again.", code="nothing_to_retry")
        if any(m.reply_to_id == last_user.id and m.status == "complete" for m in messages):
            raise Conflict(
                "The last message has a complete reply already.", code="nothing_to_retry"
            )
        return Turn(claim(coaching_session, last_user.id), message_json(last_user))


def answer_turn(
    app: Flask, turn: Turn, *, opening: bool = False
) -> Generator[TurnEvent, None, None]:
    """Stream the reply to a marked seeker message, store it, and clear the mark.

    With `opening`, the stored seeker message comes first, as a `message` event:
    inside this generator, so that a client gone before the reply starts still
    leaves the mark cleared.
    """
    mark = turn.mark
    completion = Completion()
    settled = False  # the reply (or its failure) is stored and the mark cleared
    try:
        if opening:
            yield TurnEvent("message", {"message": turn.user_message})
        prompt = build_turn_prompt(app, mark.message_id)
        renewed = time.monotonic()
        for text in provider(app).stream_reply(prompt, completion):
            completion.parts.append(text)
            yield TurnEvent("delta", {"text": text})
            if time.monotonic() - renewed > RENEW_EVERY_SECONDS:
                renew(app, mark)
                renewed = time.monotonic()
        completion.finished = time.monotonic()
        reply = _store_reply(app, mark, completion, "complete", None)
        assert reply is not None  # a complete reply is always stored
        settled = True
    except Exception as exc:
        failure = exc if isinstance(exc, ModelUnavailable) else _unexpected(exc)
        status = "partial" if completion.text else "failed"
        stored = _store_reply_or_release(app, mark, completion, status, failure.code)
        settled = True
        log.warning("reply %s for message %s: %s", status, mark.message_id, failure.code)
        yield TurnEvent("error", failure_event(failure, stored))
        return
    finally:
        if not settled:
            # The client went away mid-stream: keep what was said, as partial.
            kept = "partial" if completion.text else None
            _store_reply_or_release(app, mark, completion, kept, "client_gone")
    if provider(app).name != "guided":
        # Before the last event: a consumer may stop reading at "done"
        # (collect_reply does), and the generator would never get past it.
        background(app).submit(
            lambda: refine_reflection(app, mark.session_id),
            f"reflection for session {mark.session_id}",
        )
    yield TurnEvent("done", {"reply": reply})


def failure_event(failure: ModelUnavailable, reply: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "error": {"code": failure.code, "message": failure.message},
        "retryable": failure.retryable,
        "reply": reply,
    }


def _unexpected(exc: Exception) -> ModelUnavailable:
    log.exception("unexpected failure while answering", exc_info=exc)
    return ModelUnavailable(
        "Something went wrong while answering. Try again.", code="internal_error"
    )


def build_turn_prompt(app: Flask, message_id: int) -> TurnPrompt:
    """What the provider is shown for this message, read in one short transaction."""
    with short_transaction(app) as db:
        message = db.get_one(Message, message_id)
        coaching_session = db.get_one(CoachingSession, message.coaching_session_id)
        in_session = Message.coaching_session_id == coaching_session.id
        earlier = db.scalars(
            select(Message)
            .where(in_session, Message.id > coaching_session.summary_through_id)
            .where(Message.id < message.id)
            .order_by(Message.id)
        ).all()
        turn_number = db.scalar(
            select(func.count())
            .select_from(Message)
            .where(in_session, Message.role == "user", Message.id <= message.id)
        )
        record = ReflectionRecord.model_validate(coaching_session.reflection)
        same_stage = message.stage == coaching_session.stage
        recent = app.config["COACH_RECENT_MESSAGES"]
        return TurnPrompt(
            system=prompt_book(app).build_system_prompt(
                message.stage, record, coaching_session.summary
            ),
            history=tuple(recent_window(earlier, coaching_session.summary_through_id, recent)),
            user_message=message.content,
            stage=message.stage,
            stage_turn=max(coaching_session.stage_turns if same_stage else 1, 1),
            turn_number=turn_number or 1,
            record=record,
        )


def _store_reply(
    app: Flask, mark: ReplyMark, completion: Completion, status: str | None, error: str | None
) -> dict[str, Any] | None:
    """Store the reply (unless `status` is None: nothing to keep) and clear the mark."""
    with short_transaction(app) as db:
        coaching_session = db.get_one(CoachingSession, mark.session_id, with_for_update=True)
        user_message = db.get_one(Message, mark.message_id)
        clear(coaching_session, mark)
        if status is None:
            return None
        reply = Message(
            coaching_session_id=coaching_session.id,
            role="assistant",
            content=completion.text,
            stage=user_message.stage,
            status=status,
            reply_to_id=mark.message_id,
            model=(completion.model or "")[:MODEL_NAME_CHARS] or None,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            latency_ms=completion.latency_ms,
            error=error,
        )
        db.add(reply)
        db.flush()
        if status == "complete":
            unfolded = db.scalars(
                select(Message)
                .where(Message.coaching_session_id == coaching_session.id)
                .where(Message.id > coaching_session.summary_through_id)
                .order_by(Message.id)
            ).all()
            fold_old_turns(
                coaching_session,
                unfolded,
                app.config["COACH_RECENT_MESSAGES"],
                app.config["COACH_SUMMARY_MAX_CHARS"],
            )
        return message_json(reply)


def _store_reply_or_release(
    app: Flask, mark: ReplyMark, completion: Completion, status: str | None, error: str
) -> dict[str, Any] | None:
    """Like `_store_reply`, for failure paths: a database error here is logged, not
    raised, and the mark is cleared on its own so the seeker can try again."""
    try:
        return _store_reply(app, mark, completion, status, error)
    except Exception:
        log.exception("could not store the %s reply to message %s", status, mark.message_id)
    try:
        release(app, mark)
    except Exception:
        log.exception("could not clear the reply mark of session %s", mark.session_id)
    return None
