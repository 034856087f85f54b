"""Counselors' notes on a shared session or one of its messages, and the notes a
seeker may see beside their plan. Notes live in their own table and no prompt
reads it: the model never sees them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from coach.coaching.sessions import get_owned_session
from coach.counsel import audit
from coach.counsel.access import get_shared_session
from coach.counsel.schema import Note, NoteChange, NoteCreate
from coach.errors import Forbidden, InvalidInput, NotFound
from coach.storage.models import CoachingSession, CounselorNote, Message, User

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
    """A note's new text or visibility, by its author; with its audit line."""
    stored = _own_note(db, counselor, session_id, note_id)
    if change.body is not None:
        stored.body = change.body
    if change.visible_to_seeker is not None:
        stored.visible_to_seeker = change.visible_to_seeker
    visibility = "visible to the seeker" if stored.visible_to_seeker else "for counselors"
    audit.record(db, counselor, "note_changed", session_id, f"note {stored.id}, {visibility}")
    db.commit()
    return describe_note(stored)


def delete_note(db: Session, counselor: User, session_id: int, note_id: int) -> Note:
    """Take a note away, by its author (a seeker who saw it no longer does); the audit
    line stays. The note as it was."""
    stored = _own_note(db, counselor, session_id, note_id)
    deleted = describe_note(stored)
    db.delete(stored)
    audit.record(db, counselor, "note_deleted", session_id, f"note {note_id}")
    db.commit()
    return deleted


def _own_note(db: Session, counselor: User, session_id: int, note_id: int) -> CounselorNote:
    """The note, on a session the counselor may read, if they wrote it: a note on
    another session is a 404, and another counselor's note is theirs to change."""
    coaching_session = get_shared_session(db, counselor, session_id)
    stored = db.get(CounselorNote, note_id, options=[joinedload(CounselorNote.author)])
    if stored is None or stored.coaching_session_id != coaching_session.id:
        raise NotFound("No such note on this session.")
    if stored.author_id != counselor.id:
        raise Forbidden("Only the counselor who wrote a note may change it.", code="not_your_note")
    return stored


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
    )
