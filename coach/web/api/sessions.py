"""The seeker's coaching sessions: list, create, show, change, delete, and correct
the reflection record."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from pydantic.experimental.missing_sentinel import MISSING

from coach.coaching.record_corrections import correct_record
from coach.coaching.sessions import (
    create_session,
    delete_session,
    get_owned_session,
    list_sessions,
    message_page,
)
from coach.counsel.consent import change_session
from coach.counsel.notes import notes_for_seeker
from coach.storage.database import get_db
from coach.web.api.requests import parse_body, parse_query
from coach.web.auth import require_user
from coach.web.limits import limiter, session_limit
from coach.web.openapi import documented
from coach.web.representations import reflection_json, session_json, session_page_json
from coach.web.schemas import (
    ID_CONVERTER,
    NoteList,
    Reflection,
    ReflectionCorrection,
    Session,
    SessionCreate,
    SessionListQuery,
    SessionPage,
    SessionShowQuery,
    SessionUpdate,
)

bp = Blueprint("sessions", __name__, url_prefix="/sessions")
SESSION_ID = f"<{ID_CONVERTER}:session_id>"


@bp.get("")
@documented({200: SessionPage}, query=SessionListQuery)
def index() -> dict[str, Any]:
    """The caller's sessions, newest first, a page at a time."""
    query = parse_query(SessionListQuery)
    items, total = list_sessions(get_db(), require_user(), query.page, query.per_page)
    return session_page_json(items, query.page, query.per_page, total)


@bp.post("")
@documented({201: Session}, body=SessionCreate, errors=(429,))
@limiter.limit(session_limit)
def create() -> tuple[dict[str, Any], int]:
    """Start a new coaching session."""
    user = require_user()
    title = parse_body(SessionCreate).title
    return session_json(create_session(get_db(), user, title)), 201


@bp.get(f"/{SESSION_ID}")
@documented({200: Session}, query=SessionShowQuery)
def show(session_id: int) -> dict[str, Any]:
    """One session with its newest messages (or those before `before`), oldest first."""
    query = parse_query(SessionShowQuery)
    db = get_db()
    coaching_session = get_owned_session(db, require_user(), session_id)
    page = message_page(db, coaching_session, query.limit, query.before)
    return session_json(coaching_session, page)


@bp.patch(f"/{SESSION_ID}")
@documented({200: Session}, body=SessionUpdate)
def update(session_id: int) -> dict[str, Any]:
    """Change a session's title, stage, or consent to share it (each change audited)."""
    # The body first: no transaction waits on a client that is slow to send it.
    changes = parse_body(SessionUpdate).model_dump()
    db, user = get_db(), require_user()
    coaching_session = get_owned_session(db, user, session_id)
    return session_json(change_session(db, user, coaching_session, changes))


@bp.get(f"/{SESSION_ID}/notes")
@documented({200: NoteList})
def notes(session_id: int) -> dict[str, Any]:
    """The counselors' notes on this session that they marked visible to the seeker."""
    items = notes_for_seeker(get_db(), require_user(), session_id)
    return NoteList(items=items).model_dump(mode="json")


@bp.patch(f"/{SESSION_ID}/reflection")
@documented({200: Reflection}, body=ReflectionCorrection, errors=(409,))
def correct_reflection(session_id: int) -> dict[str, Any]:
    """Edit or remove one entry of the reflection record.

    Refused (409 `reply_in_progress`) while a reply is being written: the reply may
    still add to the record, so positions settle once it is stored.
    """
    user = require_user()
    correction = parse_body(ReflectionCorrection)
    was = None if correction.was is MISSING else correction.was
    record = correct_record(
        current_app,
        user.id,
        session_id,
        correction.field,
        correction.index,
        correction.value,
        was,
    )
    return reflection_json(record)


@bp.delete(f"/{SESSION_ID}")
@documented({204: None})
def delete(session_id: int) -> tuple[str, int]:
    """Delete a session and everything in it."""
    db = get_db()
    delete_session(current_app, db, get_owned_session(db, require_user(), session_id))
    return "", 204
