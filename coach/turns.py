"""How a turn is answered, from the seeker's message to the stored reply.

1. `accept_message` validates the text and commits it before anything else can
   fail, so a seeker's words are never lost.
2. `prepare_turn` reads it into the reflection record and decides the stage.
3. `answer_turn` streams the provider's reply as events. No database connection
   is held while the model talks: the prompt is built in one short transaction,
   the reply stored in another, complete, partial (it broke off) or failed.
4. After a complete reply, a model that can read the conversation refines the
   reflection record in the background.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coach.background import background
from coach.conversation import (
    TurnPrompt,
    conversation_history,
    decide_stage,
    fold_old_turns,
    recent_window,
)
from coach.db import short_transaction
from coach.errors import Conflict, InvalidInput, ModelUnavailable, PayloadTooLarge
from coach.frameworks import frameworks
from coach.models import DEFAULT_TITLE, CoachingSession, Message
from coach.prompting import prompt_book
from coach.providers import Completion, provider
from coach.reflection import ReflectionRecord, keyword_rules
from coach.representations import message_json

log = logging.getLogger(__name__)

TITLE_WORDS = 8


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
    if len(raw) > max_chars:
        raise PayloadTooLarge(
            f"The message is {len(raw)} characters; the most is {max_chars}.",
            code="message_too_long",
        )
    return raw


def accept_message(db: Session, coaching_session: CoachingSession, content: str) -> Message:
    """Store the seeker's message and commit it at once."""
    if coaching_session.title == DEFAULT_TITLE and not coaching_session.messages:
        words = content.split()
        coaching_session.title = " ".join(words[:TITLE_WORDS]) + (
            "…" if len(words) > TITLE_WORDS else ""
        )
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


def prepare_turn(app: Flask, message_id: int) -> dict[str, Any]:
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


def message_to_retry(db: Session, coaching_session: CoachingSession) -> Message:
    """The last seeker message, if its reply failed, broke off or never came."""
    messages = list(db.scalars(Message.in_session(coaching_session.id)))
    last_user = next((m for m in reversed(messages) if m.role == "user"), None)
    if last_user is None:
        raise Conflict("There is no message to answer again.", code="nothing_to_retry")
    if any(m.reply_to_id == last_user.id and m.status == "complete" for m in messages):
        raise Conflict("The last message has a complete reply already.", code="nothing_to_retry")
    return last_user


def answer_turn(app: Flask, message_id: int) -> Iterator[TurnEvent]:
    """Stream the reply to one stored seeker message, then store it."""
    prompt, session_id = build_turn_prompt(app, message_id)
    completion = Completion()
    stored = False
    try:
        for text in provider(app).stream_reply(prompt, completion):
            completion.parts.append(text)
            yield TurnEvent("delta", {"text": text})
        completion.finished = time.monotonic()
    except Exception as exc:
        failure = exc if isinstance(exc, ModelUnavailable) else _unexpected(exc)
        status = "partial" if completion.text else "failed"
        reply = _store_reply(app, session_id, message_id, completion, status, failure.code)
        stored = True
        log.warning("reply %s for message %s: %s", status, message_id, failure.code)
        yield TurnEvent("error", failure_event(failure, reply))
        return
    finally:
        if not stored and completion.finished is None and completion.parts:
            # The client went away mid-stream (GeneratorExit): keep what was said.
            _store_reply(app, session_id, message_id, completion, "partial", "client_gone")
    reply = _store_reply(app, session_id, message_id, completion, "complete", None)
    if provider(app).name != "guided":
        # Before the last event: a consumer may stop reading at "done"
        # (collect_reply does), and the generator would never get past it.
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


def build_turn_prompt(app: Flask, message_id: int) -> tuple[TurnPrompt, int]:
    with short_transaction(app) as db:
        message = db.get_one(Message, message_id)
        coaching_session = db.get_one(CoachingSession, message.coaching_session_id)
        earlier = db.scalars(
            select(Message)
            .where(
                Message.coaching_session_id == coaching_session.id,
                Message.id > coaching_session.summary_through_id,
                Message.id < message.id,
            )
            .order_by(Message.id)
        ).all()
        record = ReflectionRecord.model_validate(coaching_session.reflection)
        turns_in_stage = (
            coaching_session.stage_turns if message.stage == coaching_session.stage else 1
        )
        prompt = TurnPrompt(
            system=prompt_book(app).build_system_prompt(
                message.stage, record, coaching_session.summary
            ),
            history=tuple(
                recent_window(
                    earlier,
                    coaching_session.summary_through_id,
                    app.config["COACH_RECENT_MESSAGES"],
                )
            ),
            user_message=message.content,
            stage=message.stage,
            stage_turn=max(turns_in_stage, 1),
            record=record,
        )
        return prompt, coaching_session.id


def _store_reply(
    app: Flask,
    session_id: int,
    message_id: int,
    completion: Completion,
    status: str,
    error: str | None,
) -> dict[str, Any]:
    with short_transaction(app) as db:
        coaching_session = db.get_one(CoachingSession, session_id, with_for_update=True)
        user_message = db.get_one(Message, message_id)
        reply = Message(
            coaching_session_id=session_id,
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
                .where(
                    Message.coaching_session_id == session_id,
                    Message.id > coaching_session.summary_through_id,
                )
                .order_by(Message.id)
            ).all()
            fold_old_turns(
                coaching_session,
                unfolded,
                app.config["COACH_RECENT_MESSAGES"],
                app.config["COACH_SUMMARY_MAX_CHARS"],
            )
        return message_json(reply)


def refine_reflection(app: Flask, session_id: int) -> None:
    """Let the model read the recent turns and add what it finds to the record."""
    with short_transaction(app) as db:
        coaching_session = db.get_one(CoachingSession, session_id)
        record = ReflectionRecord.model_validate(coaching_session.reflection)
        messages = db.scalars(
            select(Message)
            .where(Message.coaching_session_id == session_id)
            .order_by(Message.id.desc())
            .limit(app.config["COACH_RECENT_MESSAGES"])
        ).all()
        turns = recent_window(list(reversed(conversation_history(messages))), 0, len(messages))
    try:
        found = provider(app).extract_reflection(record, turns)
    except ModelUnavailable as exc:
        # The chat is unaffected; the keyword rules have already filled the record.
        log.warning("reflection record not refined for session %s: %s", session_id, exc.code)
        return
    if found is None:
        return
    with short_transaction(app) as db:
        coaching_session = db.get_one(CoachingSession, session_id, with_for_update=True)
        current = ReflectionRecord.model_validate(coaching_session.reflection)
        coaching_session.reflection = current.merge(found).model_dump(mode="json")
