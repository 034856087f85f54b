"""A turn's rows written with statements built once, not through the unit of work.

Every turn stores two messages, the seeker's and the coach's, and updates its
session to take and clear the reply mark; a flush costs several times the statement
it runs, so these are written here. A message's HTML is rendered with its content
(as `_render_content` does for messages written through the ORM) and the row goes
in with an INSERT built at import; it comes back attached to the caller's database
session as if it had been loaded, so that any later change to it is flushed as
usual. A session's columns are set with one UPDATE and set on the loaded session as
stored, so that no flush writes them again; what the dialogue changed on a loaded
session and message while settling a turn (record, stage, pending question) is
written the same way (`write_changes`).

The caller moves the session's latest activity in that UPDATE (a flush would have
done it through `_note_activity`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from coach.storage.message_html import render_markdown
from coach.storage.models import MESSAGES_TABLE, SESSIONS_TABLE, CoachingSession, Message, utcnow

_INSERT_MESSAGE = insert(MESSAGES_TABLE).returning(MESSAGES_TABLE.c.id)
# The SET clause comes from the values each call passes.
_UPDATE_SESSION = update(SESSIONS_TABLE).where(SESSIONS_TABLE.c.id == bindparam("session_id"))
_UPDATE_MESSAGE = update(MESSAGES_TABLE).where(MESSAGES_TABLE.c.id == bindparam("message_id"))

# The columns a message may leave out, with what they hold then; the rest it gives.
# Every column is written, so that the message handed back has every attribute as
# stored and none is loaded again.
UNLESS_GIVEN: dict[str, Any] = {
    "reply_to_id": None,
    "model": None,
    "prompt_tokens": None,
    "completion_tokens": None,
    "latency_ms": None,
    "error": None,
    "safety": None,
    "discloses": False,
    "choices": None,
}
WRITTEN_HERE = frozenset({"id", "content_html"})


def insert_message(db: Session, **values: Any) -> Message:
    """Store a message with these column values; the stored message, attached to `db`."""
    row = UNLESS_GIVEN | values
    missing = MESSAGES_TABLE.c.keys() - row.keys() - WRITTEN_HERE
    if missing or row.keys() & WRITTEN_HERE:
        raise TypeError(f"a message is stored with every column but id and its HTML: {missing}")
    row["content_html"] = render_markdown(row["content"], session_id=row["coaching_session_id"])
    message = Message(id=db.scalar(_INSERT_MESSAGE, row), **row)
    make_transient_to_detached(message)
    db.add(message)
    return message


def update_session(db: Session, coaching_session: CoachingSession, **values: Any) -> None:
    """Set these columns of a loaded session (locked by the caller) in one UPDATE."""
    values.setdefault("updated_at", utcnow())
    db.execute(_UPDATE_SESSION, {"session_id": coaching_session.id, **values})
    for key, value in values.items():
        set_committed_value(coaching_session, key, value)


def write_changes(db: Session, coaching_session: CoachingSession, message: Message) -> None:
    """Write the columns changed on a loaded session and message (a turn's settling:
    record, stage, pending question) with one UPDATE each, not with a flush (which
    costs several times as much), and mark them as stored."""
    session_changes, message_changes = _changed_columns(coaching_session), _changed_columns(message)
    if message_changes.keys() & {"content", "coaching_session_id"}:
        # Its HTML would have to be rendered again (`_render_content`): a flush does it.
        raise ValueError("a message's content is not changed by settling its turn")
    # Without autoflush: the changes being written here are still pending.
    with db.no_autoflush:
        if session_changes:
            update_session(db, coaching_session, **session_changes)
        if message_changes:
            db.execute(_UPDATE_MESSAGE, {"message_id": message.id, **message_changes})
    for row in (coaching_session, message):
        _as_stored(db, row)


def _as_stored(db: Session, row: CoachingSession | Message) -> None:
    """Mark a loaded row as holding what is stored. Setting each attribute as committed
    is not enough: a row changed once stays among the session's modified rows, and the
    next flush would still go through the unit of work for it."""
    db.expunge(row)
    make_transient(row)
    make_transient_to_detached(row)
    db.add(row)


def _changed_columns(row: CoachingSession | Message) -> dict[str, Any]:
    state = instance_state(row)
    if not state.modified:
        return {}
    return {
        column.key: state.attrs[column.key].value
        for column in state.mapper.column_attrs
        if state.attrs[column.key].history.has_changes()
    }
