"""The seeker's coaching sessions: list, create, show, change, delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from coach.coaching.sessions import (
    create_session,
    delete_session,
    get_owned_session,
    list_sessions,
    session_messages,
    update_session,
)
from coach.storage.database import get_db
from coach.web.api.requests import ID_CONVERTER, json_body, page_argument
from coach.web.auth import require_user
from coach.web.limits import limiter
from coach.web.representations import session_json

bp = Blueprint("sessions", __name__, url_prefix="/sessions")
SESSION_ID = f"<{ID_CONVERTER}:session_id>"


@bp.get("")
def index() -> dict[str, Any]:
    """The caller's sessions, newest first, a page at a time."""
    page, per_page = page_argument("page", 1), page_argument("per_page", 20)
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
