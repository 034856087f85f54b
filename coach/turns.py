"""How a turn is answered, from the seeker's message to the stored reply.

1. `accept_message` validates the text and commits it before anything else can
   fail, so a seeker's words are never lost.
2. `start_turn` reads it into the reflection record, decides the stage, and
   marks the session as being answered (`start_retry` does the marking for a
   message answered again), so that no second reply can start meanwhile.
3. `answer_turn` streams the provider's reply as events. No database connection
   is held while the model talks: the prompt is built in one short transaction,
   the reply stored in another, complete, partial (it broke off, or the client
   went away) or failed, and the mark cleared with it.
4. After a complete reply, `coach.refinement` refines the reflection record in
   the background.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coach.background import background
from coach.conversation import TurnPrompt, decide_stage, fold_old_turns, recent_window
from coach.db import short_transaction
from coach.errors import Conflict, InvalidInput, ModelUnavailable, PayloadTooLarge
from coach.frameworks import frameworks
from coach.models import DEFAULT_TITLE, MAX_TITLE_CHARS, CoachingSession, Message
from coach.prompting import prompt_book
from coach.providers import Completion, provider
from coach.refinement import refine_reflection
from coach.reflection import ReflectionRecord, keyword_rules
from coach.representations import message_json

log = logging.getLogger(__name__)

TITLE_WORDS = 8
# A mark older than this belongs to a reply whose worker died; it no longer blocks.
REPLY_MARK_LIFETIME = timedelta(minutes=5)


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


def accept_message(db: Session, coaching_session: CoachingSession, content: str) -> Message:
    """Store the seeker's message and commit it at once."""
    _refuse_while_replying(coaching_session)
    if coaching_session.title == DEFAULT_TITLE and not coaching_session.messages:
        coaching_session.title = _title_from(content)
    message = Message(
        coaching_session=coaching_session,
        role="user",
        content=content,
        stage=coaching_session.stage,
        status="complete",
    )
    db.add(message)
    db.commit()
    return message


def _title_from(content: str) -> str:
    words = content.split()
    title = " ".join(words[:TITLE_WORDS]) + ("…" if len(words) > TITLE_WORDS else "")
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1] + "…"


def start_turn(app: Flask, message_id: int) -> dict[str, Any]:
    """Read the message into the record, settle its stage, and mark the session busy."""
    with short_transaction(app) as db:
        message = db.get_one(Message, message_id)
        coaching_session = db.get_one(
            CoachingSession, message.coaching_session_id, with_for_update=True
        )
        _mark_replying(coaching_session, message_id)
        record = ReflectionRecord.model_validate(coaching_session.reflection)
        record = record.merge(keyword_rules(app).read(message.content))
        decision = decide_stage(coaching_session, record, message.content, frameworks(app))
        coaching_session.reflection = record.model_dump(mode="json")
        message.stage = decision.stage
        return message_json(message)


def start_retry(app: Flask, coaching_session_id: int) -> tuple[int, dict[str, Any]]:
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
        _mark_replying(coaching_session, last_user.id)
        return last_user.id, message_json(last_user)


def _now() -> datetime:
    return datetime.now(UTC)


def _is_replying(coaching_session: CoachingSession) -> bool:
    since = coaching_session.replying_since
    if coaching_session.replying_to_id is None or since is None:
        return False
    if since.tzinfo is None:  # SQLite hands datetimes back without their zone
        since = since.replace(tzinfo=UTC)
    return since > _now() - REPLY_MARK_LIFETIME


def _refuse_while_replying(coaching_session: CoachingSession) -> None:
    if _is_replying(coaching_session):
        raise Conflict(
            "The coach is still answering your last message; wait for it to finish.",
            code="reply_in_progress",
        )


def _mark_replying(coaching_session: CoachingSession, message_id: int) -> None:
    _refuse_while_replying(coaching_session)
    coaching_session.replying_to_id = message_id
    coaching_session.replying_since = _now()


def answer_turn(app: Flask, message_id: int) -> Iterator[TurnEvent]:
    """Stream the reply to one marked seeker message, store it, and clear the mark."""
    completion = Completion()
    settled = False  # the reply (or its failure) is stored and the mark cleared
    try:
        prompt = build_turn_prompt(app, message_id)
        for text in provider(app).stream_reply(prompt, completion):
            completion.parts.append(text)
            yield TurnEvent("delta", {"text": text})
        completion.finished = time.monotonic()
        reply = _store_reply(app, message_id, completion, "complete", None)
        assert reply is not None  # a complete reply is always stored
        settled = True
    except Exception as exc:
        failure = exc if isinstance(exc, ModelUnavailable) else _unexpected(exc)
        status = "partial" if completion.text else "failed"
        stored = _store_reply_or_unmark(app, message_id, completion, status, failure.code)
        settled = True
        log.warning("reply %s for message %s: %s", status, message_id, failure.code)
        yield TurnEvent("error", failure_event(failure, stored))
        return
    finally:
        if not settled:
            # The client went away mid-stream: keep what was said, as partial.
            kept = "partial" if completion.text else None
            _store_reply_or_unmark(app, message_id, completion, kept, "client_gone")
    if provider(app).name != "guided":
        # Before the last event: a consumer may stop reading at "done"
        # (collect_reply does), and the generator would never get past it.
        session_id = reply["session_id"]
        background(app).submit(
            lambda: refine_reflection(app, session_id), f"reflection for session {session_id}"
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
    app: Flask, message_id: int, completion: Completion, status: str | None, error: str | None
) -> dict[str, Any] | None:
    """Store the reply (unless `status` is None: nothing to keep) and clear the mark."""
    with short_transaction(app) as db:
        user_message = db.get_one(Message, message_id)
        coaching_session = db.get_one(
            CoachingSession, user_message.coaching_session_id, with_for_update=True
        )
        if coaching_session.replying_to_id == message_id:
            coaching_session.replying_to_id = None
            coaching_session.replying_since = None
        if status is None:
            return None
        reply = Message(
            coaching_session_id=coaching_session.id,
            role="assistant",
            content=completion.text,
            stage=user_message.stage,
            status=status,
            reply_to_id=message_id,
            model=completion.model,
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


def _store_reply_or_unmark(
    app: Flask, message_id: int, completion: Completion, status: str | None, error: str
) -> dict[str, Any] | None:
    """Like `_store_reply`, for failure paths: a database error here is logged, not raised,
    and the mark then simply expires."""
    try:
        return _store_reply(app, message_id, completion, status, error)
    except Exception:
        log.exception("could not store the %s reply to message %s", status, message_id)
        return None
