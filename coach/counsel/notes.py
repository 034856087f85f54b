"""Counselors' notes on a shared session or one of its messages, and the notes a
seeker may see beside their plan. Notes live in their own table and no prompt
reads it: the model never sees them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from coach.coaching.sessions import get_owned_session
from coach.counsel import audit
from coach.counsel.access import get_shared_session, require_counselor
from coach.counsel.schema import Note, NoteChange, NoteCreate
from coach.errors import Forbidden, InvalidInput, NotFound
from coach.storage.models import CoachingSession, CounselorNote, Message, User
from coach.storage.models.base import utcnow

GONE_AUTHOR = "a counselor"


def add_note(db: Session, counselor: User, session_id: int, note: NoteCreate) -> Note:
    """A note on a session the seeker shares; with its audit line, in one commit."""
    coaching_session = get_shared_session(db, counselor, session_id)
    if note.message_id is not None:
        message = db.get(Message, note.message_id)
        if message is None or message.coaching_session_id != coaching_session.id:
            raise InvalidInput(
                "message_id is not a message of this session.", code="no_such_message"
            )
    stored = CounselorNote(
        coaching_session_id=coaching_session.id,
        message_id=note.message_id,
        author_id=counselor.id,
        body=note.body,
        visible_to_seeker=note.visible_to_seeker,
    )
    db.add(stored)
    db.flush()
    visibility = "visible to the seeker" if note.visible_to_seeker else "for counselors"
    audit.record(
        db, counselor, "note_added", coaching_session.id, f"note {stored.id}, {visibility}"
    )
    db.commit()
    stored.author = counselor
    return describe_note(stored)


def change_note(
    db: Session, counselor: User, session_id: int, note_id: int, change: NoteChange
) -> Note:
    """A note's new text or visibility, by its author, marked as edited and with an
    audit line that says what changed (never the words). One that changes nothing
    leaves no mark and no line."""
    given = change.model_dump()
    if not given:
        raise InvalidInput("Give the note's body, visible_to_seeker, or both.")
    stored = _own_note(db, counselor, session_id, note_id)
    shared = db.get_one(CoachingSession, stored.coaching_session_id).shared
    if not shared and given != {"visible_to_seeker": False}:
        # The seeker stopped sharing: their author may take a note out of their sight,
        # never put new words before them (as adding a note is refused too).
        raise NotFound("No such session.")
    changed: list[str] = []
    if "body" in given and given["body"] != stored.body:
        stored.body = given["body"]
        changed.append("text changed")
    if "visible_to_seeker" in given and given["visible_to_seeker"] != stored.visible_to_seeker:
        stored.visible_to_seeker = given["visible_to_seeker"]
        changed.append(
            "shown to the seeker" if stored.visible_to_seeker else "hidden from the seeker"
        )
    if changed:
        stored.edited_at = utcnow()
        detail = f"note {stored.id}: {', '.join(changed)}"
        audit.record(db, counselor, "note_changed", stored.coaching_session_id, detail)
        db.commit()
    return describe_note(stored)


def delete_note(db: Session, counselor: User, session_id: int, note_id: int) -> Note:
    """Take a note away, by its author (a seeker who saw it no longer does); the audit
    line stays, saying whether the seeker could see it. The note as it was."""
    stored = _own_note(db, counselor, session_id, note_id)
    deleted = describe_note(stored)
    seen = "it was visible to the seeker" if stored.visible_to_seeker else "for counselors"
    db.delete(stored)
    audit.record(db, counselor, "note_deleted", session_id, f"note {note_id}, {seen}")
    db.commit()
    return deleted


def _own_note(db: Session, counselor: User, session_id: int, note_id: int) -> CounselorNote:
    """The counselor's own note on this session. Their own stays theirs to hide or
    delete after the seeker stops sharing (the seeker may still see it); any
    other is read through the session as the counselor may read it: another
    counselor's note is a 403, a note not on this session, or on a session not shared
    with them, a 404."""
    require_counselor(counselor)
    stored = db.get(CounselorNote, note_id, options=[joinedload(CounselorNote.author)])
    on_session = stored is not None and stored.coaching_session_id == session_id
    if on_session and stored is not None and stored.author_id == counselor.id:
        return stored
    get_shared_session(db, counselor, session_id)
    if stored is None or stored.coaching_session_id != session_id:
        raise NotFound("No such note on this session.")
    raise Forbidden("Only the counselor who wrote a note may change it.", code="not_your_note")


def session_notes(db: Session, session_id: int) -> list[CounselorNote]:
    return list(
        db.scalars(CounselorNote.in_session(session_id).options(joinedload(CounselorNote.author)))
    )


def notes_for_seeker(db: Session, user: User, session_id: int) -> list[Note]:
    """The notes on the seeker's own session that counselors marked visible to them."""
    coaching_session = get_owned_session(db, user, session_id)
    query = (
        CounselorNote.in_session(coaching_session.id)
        .where(CounselorNote.visible_to_seeker.is_(True))
        .options(joinedload(CounselorNote.author))
    )
    return [describe_note(n) for n in db.scalars(query)]


def export_notes(db: Session, user: User) -> dict[str, list[Note]]:
    """For the seeker's export of their data: the notes counselors marked visible to
    them on any of their sessions (the others are counselors' working notes)."""
    query = (
        select(CounselorNote)
        .join(CoachingSession, CoachingSession.id == CounselorNote.coaching_session_id)
        .where(CoachingSession.owner_id == user.id, CounselorNote.visible_to_seeker.is_(True))
        .options(joinedload(CounselorNote.author))
        .order_by(CounselorNote.id)
    )
    return {"notes": [describe_note(n) for n in db.scalars(query)]}


def describe_note(note: CounselorNote) -> Note:
    return Note(
        id=note.id,
        session_id=note.coaching_session_id,
        message_id=note.message_id,
        body=note.body,
        visible_to_seeker=note.visible_to_seeker,
        author=note.author.email if note.author and note.author.email else GONE_AUTHOR,
        created_at=note.created_at,
        edited_at=note.edited_at,
    )
