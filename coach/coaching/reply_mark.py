"""One reply at a time per conversation.

While the coach is answering, the coaching session carries a mark: when it was
set, and a token that only the turn which set it holds. A second message or a
retry meanwhile is refused (409), so two tabs or an impatient client cannot
start a second reply. The turn clears its own mark when the reply is stored,
whatever its status; a mark whose worker died expires. Long replies renew their
mark as they stream.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select, update

from coach.errors import Conflict
from coach.storage.database import short_transaction
from coach.storage.models import CoachingSession

MARK_LIFETIME = timedelta(minutes=5)
RENEW_EVERY_SECONDS = 60.0
# How often a streaming reply looks for a cancel request: one indexed read.
CANCEL_CHECK_SECONDS = 0.5


@dataclass(frozen=True)
class ReplyMark:
    session_id: int
    message_id: int
    token: str


def _now() -> datetime:
    return datetime.now(UTC)


def is_replying(coaching_session: CoachingSession) -> bool:
    since = coaching_session.replying_since
    if coaching_session.replying_token is None or since is None:
        return False
    if since.tzinfo is None:  # SQLite hands datetimes back without their zone
        since = since.replace(tzinfo=UTC)
    return since > _now() - MARK_LIFETIME


def refuse_while_replying(coaching_session: CoachingSession) -> None:
    if is_replying(coaching_session):
        raise Conflict(
            "The coach is still answering your last message; wait for it to finish.",
            code="reply_in_progress",
        )


def claim(coaching_session: CoachingSession, message_id: int) -> ReplyMark:
    """Mark the session (locked by the caller) as being answered for `message_id`."""
    refuse_while_replying(coaching_session)
    mark = ReplyMark(coaching_session.id, message_id, secrets.token_hex(16))
    coaching_session.replying_since = _now()
    coaching_session.replying_token = mark.token
    coaching_session.reply_cancel_requested = False
    return mark


def clear(coaching_session: CoachingSession, mark: ReplyMark) -> None:
    """Clear the mark in the caller's transaction, if it is still this turn's."""
    if coaching_session.replying_token == mark.token:
        coaching_session.replying_since = None
        coaching_session.replying_token = None
        coaching_session.reply_cancel_requested = False


def release(app: Flask, mark: ReplyMark) -> None:
    """Clear the mark in a transaction of its own (for failure and clean-up paths)."""
    _update_own_mark(
        app, mark, replying_since=None, replying_token=None, reply_cancel_requested=False
    )


def renew(app: Flask, mark: ReplyMark) -> None:
    """Keep a long reply's mark from expiring while it is still streaming."""
    _update_own_mark(app, mark, replying_since=_now())


def request_cancel(coaching_session: CoachingSession) -> None:
    """Ask the reply being written (the caller holds the row locked) to stop."""
    if not is_replying(coaching_session):
        raise Conflict("No reply is being written.", code="nothing_to_cancel")
    coaching_session.reply_cancel_requested = True


def cancel_requested(app: Flask, mark: ReplyMark) -> bool:
    with short_transaction(app, read_only=True) as db:
        return bool(
            db.scalar(
                select(CoachingSession.reply_cancel_requested)
                .where(CoachingSession.id == mark.session_id)
                .where(CoachingSession.replying_token == mark.token)
            )
        )


def _update_own_mark(app: Flask, mark: ReplyMark, **values: object) -> None:
    with short_transaction(app) as db:
        db.execute(
            update(CoachingSession)
            .where(CoachingSession.id == mark.session_id)
            .where(CoachingSession.replying_token == mark.token)
            .values(**values)
        )
