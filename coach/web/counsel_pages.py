"""The counselors' pages: the dashboard of shared sessions, a transcript with its
notes and quality panel, the note form; and the admin's audit log. Each calls the
same `coach.counsel` function as its API route, so what a page shows and what the
API answers (and what the audit log records) cannot differ."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response as WerkzeugResponse

from coach.counsel.access import require_counselor
from coach.counsel.audit import audit_page
from coach.counsel.dashboard import find_shared_sessions
from coach.counsel.notes import add_note, change_note, delete_note
from coach.counsel.schema import DashboardFilters, Note, NoteChange, NoteCreate
from coach.counsel.transcript import read_transcript
from coach.errors import Forbidden, InvalidInput
from coach.guide.frameworks import STAGES
from coach.storage.database import get_db
from coach.storage.text import require_storable
from coach.web.auth import current_user
from coach.web.chat_view import RECORD_GROUPS
from coach.web.schemas import ID_CONVERTER, AuditQuery

bp = Blueprint("counsel_pages", __name__)
AUDIT_LINES_SHOWN = 100


@bp.get("/counselor")
def dashboard() -> Any:
    """Shared sessions with filters and search, a page at a time."""
    user = current_user()
    if user is None:
        return redirect(url_for("pages.login_form"))
    require_counselor(user)
    arguments: dict[str, Any] = {k: v for k, v in request.args.items() if v != ""}
    try:
        filters = DashboardFilters.model_validate(arguments)
    except ValidationError:
        raise InvalidInput("One of the filters is not valid.") from None
    found = find_shared_sessions(current_app, get_db(), user, filters)
    return render_template(
        "counselor.html",
        sessions=found.model_dump(mode="json"),
        filters=filters.model_dump(mode="json"),
        stages=STAGES,
        next_url=None
        if found.next_cursor is None
        else url_for("counsel_pages.dashboard", **(arguments | {"cursor": found.next_cursor})),
    )


@bp.get(f"/counselor/sessions/<{ID_CONVERTER}:session_id>")
def transcript(session_id: int) -> Any:
    """One shared transcript: segmented by stage, flags, record, plan, notes, quality."""
    user = current_user()
    if user is None:
        return redirect(url_for("pages.login_form"))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    shown = read_transcript(app, get_db(), user, session_id)
    return render_template(
        "counselor_transcript.html",
        transcript=shown.model_dump(mode="json"),
        record_groups=RECORD_GROUPS,
        me=user.email,
    )


@bp.post(f"/counselor/sessions/<{ID_CONVERTER}:session_id>/notes")
def create_note(session_id: int) -> WerkzeugResponse:
    """Add a note from the transcript page, then show the transcript again."""
    user = current_user()
    if user is None:
        return redirect(url_for("pages.login_form"), code=303)
    given = request.form.get("message_id") or None
    if given is not None and not given.isdigit():
        raise InvalidInput("message_id must be the number of a message of this session.")
    message_id = int(given) if given is not None else None
    try:
        note = NoteCreate.model_validate(
            {
                "body": _note_text(),
                "message_id": message_id,
                "visible_to_seeker": request.form.get("visible_to_seeker") == "yes",
            }
        )
    except ValidationError as exc:
        fields = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        if "message_id" in fields:
            raise InvalidInput("message_id is not a message of this session.") from None
        raise InvalidInput("A note needs some text (at most 4000 characters).") from None
    add_note(get_db(), user, session_id, note)
    anchor = f"message-{message_id}" if message_id else "session-notes"
    return redirect(
        url_for("counsel_pages.transcript", session_id=session_id, _anchor=anchor), code=303
    )


@bp.post(f"/counselor/sessions/<{ID_CONVERTER}:session_id>/notes/<{ID_CONVERTER}:note_id>")
def edit_note(session_id: int, note_id: int) -> WerkzeugResponse:
    """Change one's own note from the transcript page, or delete it."""
    user = current_user()
    if user is None:
        return redirect(url_for("pages.login_form"), code=303)
    action = request.form.get("action")
    if action == "delete":
        if request.form.get("confirm") != "yes":
            raise InvalidInput("Tick the box to confirm that the note is to be deleted.")
        note = delete_note(get_db(), user, session_id, note_id)
        return _back_to(note, anchor_note=False)
    if action != "save":
        raise InvalidInput("The form asks to save the note or to delete it.")
    try:
        change = NoteChange.model_validate(
            {
                "body": _note_text(),
                "visible_to_seeker": request.form.get("visible_to_seeker") == "yes",
            }
        )
    except ValidationError:
        raise InvalidInput("A note needs some text (at most 4000 characters).") from None
    return _back_to(change_note(get_db(), user, session_id, note_id, change), anchor_note=True)


def _note_text() -> str:
    """The form's note as the API would take it: text both databases can store, with
    the browser's line breaks (CRLF) as one character, as the field counted them."""
    text = request.form.get("body", "").replace("\r\n", "\n")
    return require_storable(text, "The note")


def _back_to(note: Note, *, anchor_note: bool) -> WerkzeugResponse:
    """The transcript again, at the note, or where it was."""
    if anchor_note:
        anchor = f"saved-note-{note.id}"
    else:
        anchor = f"message-{note.message_id}" if note.message_id else "session-notes"
    return redirect(
        url_for("counsel_pages.transcript", session_id=note.session_id, _anchor=anchor), code=303
    )


@bp.get("/admin/audit")
def audit_log() -> Any:
    """The audit log for an admin, newest first, with the CSV export."""
    user = current_user()
    if user is None:
        return redirect(url_for("pages.login_form"))
    if user.role != "admin":
        raise Forbidden("Only an admin may read this.", code="admins_only")
    try:
        before = AuditQuery.model_validate({"before": request.args.get("before")}).before
    except ValidationError:
        raise InvalidInput("before must be the number of an audit line.") from None
    page = audit_page(get_db(), before, AUDIT_LINES_SHOWN)
    return render_template("audit.html", audit=page.model_dump(mode="json"))
