"""The seeker's coaching sessions and the chat turns within them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from flask import Blueprint, current_app, request

from coach.api import json_body
from coach.auth import require_user
from coach.db import get_db, release_request_session
from coach.errors import InvalidInput
from coach.limits import limiter, message_limit
from coach.representations import message_json, session_json
from coach.sessions import (
    create_session,
    delete_session,
    get_owned_session,
    list_sessions,
    session_messages,
    update_session,
)
from coach.streaming import collect_reply, event_stream, wants_event_stream
from coach.turns import (
    TurnEvent,
    accept_message,
    answer_turn,
    message_to_retry,
    prepare_turn,
    validate_content,
)

bp = Blueprint("api_sessions", __name__, url_prefix="/api/v1/sessions")


def _page_argument(name: str, default: int) -> int:
    raw = request.args.get(name, str(default))
    if not raw.isdigit():
        raise InvalidInput(f"{name} must be a positive whole number.")
    return int(raw)


@bp.get("")
def index() -> dict[str, Any]:
    """The caller's sessions, newest first, a page at a time."""
    page, per_page = _page_argument("page", 1), _page_argument("per_page", 20)
    items, total = list_sessions(get_db(), require_user(), page, per_page)
    return {
        "items": [session_json(s) for s in items],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


@bp.post("")
def create() -> tuple[dict[str, Any], int]:
    """Start a new coaching session."""
    body = request.get_json(silent=True) or {}
    title = body.get("title") if isinstance(body, dict) else None
    return session_json(create_session(get_db(), require_user(), title)), 201


@bp.get("/<int:session_id>")
def show(session_id: int) -> dict[str, Any]:
    """One session with its messages."""
    db = get_db()
    coaching_session = get_owned_session(db, require_user(), session_id)
    return session_json(coaching_session, session_messages(db, coaching_session))


@bp.patch("/<int:session_id>")
def update(session_id: int) -> dict[str, Any]:
    """Change a session's title, stage or sharing."""
    db = get_db()
    coaching_session = get_owned_session(db, require_user(), session_id)
    return session_json(update_session(db, coaching_session, json_body()))


@bp.delete("/<int:session_id>")
def delete(session_id: int) -> tuple[str, int]:
    """Delete a session and everything in it."""
    db = get_db()
    delete_session(db, get_owned_session(db, require_user(), session_id))
    return "", 204


@bp.post("/<int:session_id>/messages")
@limiter.limit(message_limit)
def post_message(session_id: int) -> Any:
    """Store the seeker's message, then answer it (JSON, or SSE when asked for)."""
    db = get_db()
    coaching_session = get_owned_session(db, require_user(), session_id)
    limit = current_app.config["COACH_MAX_MESSAGE_CHARS"]
    content = validate_content(json_body().get("content"), limit)
    message = accept_message(db, coaching_session, content)
    return _answer(message.id, status=201)


@bp.post("/<int:session_id>/retry")
@limiter.limit(message_limit)
def retry(session_id: int) -> Any:
    """Answer the last message again after its reply failed or broke off."""
    db = get_db()
    coaching_session = get_owned_session(db, require_user(), session_id)
    message = message_to_retry(db, coaching_session)
    return _answer(message.id, status=201, prepared=message_json(message))


def _answer(message_id: int, status: int, prepared: dict[str, Any] | None = None) -> Any:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    user_message = prepared or prepare_turn(app, message_id)
    # The model may talk for seconds: give the connection back to the pool first.
    release_request_session()
    events = answer_turn(app, message_id)
    if wants_event_stream(request.headers.get("Accept", "")):
        opening = TurnEvent("message", {"message": user_message})
        return event_stream(_prepend(opening, events), status)
    reply = collect_reply(events)
    return {"user_message": user_message, "reply": reply}, status


def _prepend(first: TurnEvent, rest: Iterable[TurnEvent]) -> Iterator[TurnEvent]:
    yield first
    yield from rest
