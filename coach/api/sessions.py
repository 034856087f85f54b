"""The seeker's coaching sessions and the chat turns within them."""

from __future__ import annotations

import inspect
import re
from collections.abc import Generator
from typing import Any

from flask import Blueprint, Flask, current_app, request

from coach.api import json_body
from coach.auth import require_user
from coach.db import get_db, release_request_session
from coach.errors import InvalidInput
from coach.limits import limiter, message_limit
from coach.reply_mark import release
from coach.representations import session_json
from coach.sessions import (
    create_session,
    delete_session,
    get_owned_session,
    list_sessions,
    session_messages,
    update_session,
)
from coach.streaming import collect_reply, event_stream, wants_event_stream
from coach.turns import Turn, answer_turn, begin_retry, begin_turn, validate_content

bp = Blueprint("api_sessions", __name__, url_prefix="/api/v1/sessions")

# Ids beyond this are not ids of ours; the converter makes them a plain 404.
SESSION_ID = "<int(max=2147483647):session_id>"


def _page_argument(name: str, default: int) -> int:
    raw = request.args.get(name, str(default))
    if not re.fullmatch(r"[0-9]{1,6}", raw):
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
@limiter.limit("60 per hour")
def create() -> tuple[dict[str, Any], int]:
    """Start a new coaching session."""
    body = request.get_json(silent=True) or {}
    title = body.get("title") if isinstance(body, dict) else None
    return session_json(create_session(get_db(), require_user(), title)), 201


@bp.get(f"/{SESSION_ID}")
def show(session_id: int) -> dict[str, Any]:
    """One session with its messages."""
    db = get_db()
    coaching_session = get_owned_session(db, require_user(), session_id)
    return session_json(coaching_session, session_messages(db, coaching_session))


@bp.patch(f"/{SESSION_ID}")
def update(session_id: int) -> dict[str, Any]:
    """Change a session's title, stage or sharing."""
    db = get_db()
    coaching_session = get_owned_session(db, require_user(), session_id)
    return session_json(update_session(db, coaching_session, json_body()))


@bp.delete(f"/{SESSION_ID}")
def delete(session_id: int) -> tuple[str, int]:
    """Delete a session and everything in it."""
    db = get_db()
    delete_session(db, get_owned_session(db, require_user(), session_id))
    return "", 204


@bp.post(f"/{SESSION_ID}/messages")
@limiter.limit(message_limit)
def post_message(session_id: int) -> Any:
    """Store the seeker's message, then answer it (JSON, or SSE when asked for)."""
    db = get_db()
    coaching_session = get_owned_session(db, require_user(), session_id)
    limit = current_app.config["COACH_MAX_MESSAGE_CHARS"]
    content = validate_content(json_body().get("content"), limit)
    return _reply(begin_turn(current_app, db, coaching_session, content))


@bp.post(f"/{SESSION_ID}/retry")
@limiter.limit(message_limit)
def retry(session_id: int) -> Any:
    """Answer the last message again after its reply failed or broke off."""
    coaching_session = get_owned_session(get_db(), require_user(), session_id)
    release_request_session()  # begin_retry locks the session in a transaction of its own
    return _reply(begin_retry(current_app, coaching_session.id))


def _release_if_never_started(app: Flask, turn: Turn, events: Generator[Any, None, None]) -> None:
    if inspect.getgeneratorstate(events) == inspect.GEN_CREATED:
        release(app, turn.mark)


def _reply(turn: Turn) -> Any:
    # The model may talk for seconds: give the connection back to the pool first.
    release_request_session()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if wants_event_stream(request.headers.get("Accept", "")):
        events = answer_turn(app, turn, opening=True)
        response = event_stream(events, status=201)
        # A started turn clears its own mark; one whose client left before the
        # stream began never runs, so its mark is cleared here.
        response.call_on_close(lambda: _release_if_never_started(app, turn, events))
        return response
    events = answer_turn(app, turn)
    try:
        return {"user_message": turn.user_message, "reply": collect_reply(events)}, 201
    finally:
        events.close()
