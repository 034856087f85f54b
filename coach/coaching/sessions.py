"""Coaching sessions as their owner sees them: list, create, fetch, change, delete.

`get_owned_session` is the one gate: a session that is not the caller's is a 404,
exactly like one that does not exist, so ids reveal nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from coach.coaching.reply_mark import request_cancel
from coach.coaching.stages import set_stage
from coach.errors import InvalidInput, NotFound
from coach.guide.frameworks import STAGES
from coach.storage.database import forget_deleted, short_transaction
from coach.storage.models import MAX_TITLE_CHARS, CoachingSession, Message, User

MAX_PER_PAGE = 100
EDITABLE_FIELDS = {"title", "stage", "shared"}
# A session is shown with its newest messages, this many unless asked otherwise:
# showing a long conversation costs what showing a short one does.
MESSAGES_SHOWN = 50
MAX_MESSAGES_SHOWN = 200
# Every turn locks its session: built once, since building a statement costs more
# than running it. Read afresh even if this database session holds it already.
_LOCKED_SESSION = (
    select(CoachingSession)
    .where(CoachingSession.id == bindparam("session_id"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


@dataclass(frozen=True)
class MessagePage:
    """Some of a conversation's messages, oldest first, as a session is shown with."""

    messages: list[Message]
    # Whether older messages come before the first one here.
    has_earlier: bool
    # The conversation's newest message, on this page or not: whether a retry is
    # offered depends on it.
    latest: Message | None


def get_owned_session(db: Session, user: User, session_id: int) -> CoachingSession:
    return _owned(db.get(CoachingSession, session_id), user.id)


def lock_owned_session(db: Session, user_id: int, session_id: int) -> CoachingSession:
    """The session, its row locked for the rest of the caller's transaction."""
    locked = db.scalars(_LOCKED_SESSION, {"session_id": session_id}).one_or_none()
    return _owned(locked, user_id)


def _owned(coaching_session: CoachingSession | None, user_id: int) -> CoachingSession:
    if coaching_session is None or coaching_session.owner_id != user_id:
        raise NotFound("No such session.")
    return coaching_session


def cancel_reply(app: Flask, user_id: int, session_id: int) -> None:
    """Ask the reply being written in the seeker's session to stop."""
    with short_transaction(app) as db:
        request_cancel(lock_owned_session(db, user_id, session_id))


def list_sessions(
    db: Session, user: User, page: int, per_page: int
) -> tuple[list[CoachingSession], int]:
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"page must be 1 or more and per_page 1 to {MAX_PER_PAGE}.")
    query = CoachingSession.owned_by(user.id)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return items, total


def create_session(db: Session, user: User, title: str | None = None) -> CoachingSession:
    # By id, not by relationship: appending to `coaching_sessions` would load them all.
    coaching_session = CoachingSession(owner_id=user.id, flags=[], reflection={})
    if title is not None:
        coaching_session.title = _valid_title(title)
    db.add(coaching_session)
    db.commit()
    return coaching_session


def message_page(
    db: Session,
    coaching_session: CoachingSession,
    limit: int = MESSAGES_SHOWN,
    before: int | None = None,
) -> MessagePage:
    """The newest `limit` messages, or the newest before the message id `before`.

    A page is bounded by ids, not positions, so it stays the same while newer
    messages arrive. The whole conversation is read elsewhere (the prompt, the
    counselor's transcript, the exports), never through this."""
    if not 1 <= limit <= MAX_MESSAGES_SHOWN:
        raise InvalidInput(f"limit must be 1 to {MAX_MESSAGES_SHOWN}.")
    newest_first = select(Message).where(Message.coaching_session_id == coaching_session.id)
    newest_first = newest_first.order_by(Message.id.desc())
    bounded = newest_first if before is None else newest_first.where(Message.id < before)
    # One more than shown says whether there are earlier ones.
    found = list(db.scalars(bounded.limit(limit + 1)))
    shown = found[:limit][::-1]
    newest_shown = shown[-1] if shown else None
    latest = newest_shown if before is None else db.scalar(newest_first.limit(1))
    return MessagePage(messages=shown, has_earlier=len(found) > limit, latest=latest)


def update_session(
    db: Session, coaching_session: CoachingSession, changes: dict[str, Any]
) -> CoachingSession:
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    if not changes:
        raise InvalidInput(f"Send at least one of: {', '.join(sorted(EDITABLE_FIELDS))}.")
    if "title" in changes:
        coaching_session.title = _valid_title(changes["title"])
    if "stage" in changes:
        if changes["stage"] not in STAGES:
            raise InvalidInput(f"stage must be one of {', '.join(STAGES)}.")
        set_stage(coaching_session, changes["stage"])
    if "shared" in changes:
        if not isinstance(changes["shared"], bool):
            raise InvalidInput("shared must be true or false.")
        coaching_session.shared = changes["shared"]
    db.commit()
    return coaching_session


def delete_session(app: Flask, db: Session, coaching_session: CoachingSession) -> None:
    """Delete a session and everything in it, leaving no copy of its words behind."""
    db.delete(coaching_session)
    db.commit()
    forget_deleted(app)


def _valid_title(title: object) -> str:
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput("title must be a non-empty string.")
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidInput(f"title must be at most {MAX_TITLE_CHARS} characters.")
    return title.strip()
