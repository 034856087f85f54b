"""Counselor review: the sessions seekers share, each transcript (every read on
record), notes, and the transcript as Markdown. Only counselors; a session that is
not shared is a 404, like one that does not exist."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from coach.counsel.access import require_counselor
from coach.counsel.dashboard import find_shared_sessions
from coach.counsel.export import export_transcript
from coach.counsel.notes import add_note, change_note, delete_note
from coach.counsel.schema import Note, SessionList, Transcript
from coach.counsel.transcript import read_transcript
from coach.storage.database import get_db
from coach.web.api.requests import parse_body, parse_query
from coach.web.auth import require_user
from coach.web.openapi import Download, documented
from coach.web.schemas import ID_CONVERTER, CounselorSessionsQuery, NoteBody, NoteChangeBody

bp = Blueprint("counselor", __name__, url_prefix="/counselor")
SESSION = f"/sessions/<{ID_CONVERTER}:session_id>"
NOTE = f"{SESSION}/notes/<{ID_CONVERTER}:note_id>"
MARKDOWN = Download("text/markdown", "The transcript as Markdown, for a counselor's records.")


@bp.get("/sessions")
@documented({200: SessionList}, query=CounselorSessionsQuery, errors=(403,))
def index() -> dict[str, Any]:
    """Shared sessions, latest activity first, filtered and searched, a page at a time."""
    user = require_user()
    require_counselor(user)
    filters = parse_query(CounselorSessionsQuery)
    found = find_shared_sessions(current_app, get_db(), user, filters)
    return found.model_dump(mode="json")


@bp.get(SESSION)
@documented({200: Transcript}, errors=(403,))
def show(session_id: int) -> dict[str, Any]:
    """A shared session's transcript, record, check-ins, plan, notes and quality panel.

    Replies not labelled yet are labelled by the model first, when one is configured."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    transcript = read_transcript(app, get_db(), require_user(), session_id)
    return transcript.model_dump(mode="json")


@bp.get(f"{SESSION}/transcript.md")
@documented({200: MARKDOWN}, errors=(403,))
def export(session_id: int) -> Response:
    """A shared session's transcript as Markdown."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    text = export_transcript(app, get_db(), require_user(), session_id)
    response = Response(text, content_type="text/markdown; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="session-{session_id}.md"'
    return response


@bp.post(f"{SESSION}/notes")
@documented({201: Note}, body=NoteBody, errors=(403,))
def create_note(session_id: int) -> tuple[dict[str, Any], int]:
    """Add a note to a shared session or one of its messages; never sent to the model."""
    note = add_note(get_db(), require_user(), session_id, parse_body(NoteBody))
    return note.model_dump(mode="json"), 201


@bp.patch(NOTE)
@documented({200: Note}, body=NoteChangeBody, errors=(403,))
def update_note(session_id: int, note_id: int) -> dict[str, Any]:
    """Change a note's text or whether the seeker sees it; only its author may."""
    change = parse_body(NoteChangeBody)
    note = change_note(get_db(), require_user(), session_id, note_id, change)
    return note.model_dump(mode="json")


@bp.delete(NOTE)
@documented({204: None}, errors=(403,))
def remove_note(session_id: int, note_id: int) -> tuple[str, int]:
    """Delete a note; only its author may. The audit log keeps that it was."""
    delete_note(get_db(), require_user(), session_id, note_id)
    return "", 204
