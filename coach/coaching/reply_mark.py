"""One reply at a time per conversation.

While the coach is answering, the coaching session carries a mark: when it was
set, and a token that only the turn which set it holds. A second message or a
retry meanwhile is refused (409), so two tabs or an impatient client cannot
start a second reply. The turn clears its own mark when the reply is stored,
whatever its status. While a reply is being written, its process's `MarkKeeper`
renews the mark every few seconds (also while the model has not said a word yet);
a mark whose process died stops being renewed and expires seconds later, so no
conversation stays stuck.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import bindparam, case, false, func, select, update
from sqlalchemy.orm import Session

from coach.errors import Conflict
from coach.storage.database import short_transaction
from coach.storage.models import SESSIONS_TABLE, CoachingSession
from coach.storage.turn_rows import update_session

log = logging.getLogger(__name__)

# A mark lives this long after its last renewal: long enough for a busy database
# to miss a renewal or two, short enough that a dead worker's conversation is free
# again within seconds.
MARK_LIFETIME = timedelta(seconds=20)
RENEW_EVERY_SECONDS = 4.0
# No reply takes longer (the model's timeouts and attempts are far shorter): a mark
# kept this long belongs to a reply that was lost without being closed.
LONGEST_REPLY_SECONDS = 600.0
EXTENSION_KEY = "coach.coaching.reply_mark"
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


def claim(db: Session, coaching_session: CoachingSession, message_id: int) -> ReplyMark:
    """Mark the session (locked by the caller) as being answered for `message_id`."""
    return ReplyMark(coaching_session.id, message_id, take_mark(db, coaching_session))


def take_mark(db: Session, coaching_session: CoachingSession, **also: Any) -> str:
    """Mark the session (locked by the caller) as being answered, writing the other
    columns in `also` in the same UPDATE (a new message's activity); the mark's token
    (`ReplyMark` once the message has its id)."""
    refuse_while_replying(coaching_session)
    token = secrets.token_hex(16)
    update_session(
        db,
        coaching_session,
        replying_since=_now(),
        replying_token=token,
        reply_cancel_requested=False,
        **also,
    )
    return token


# Clears the mark if it is still this turn's (`token`), whoever holds it now, and
# with `activity_at` (a reply being stored) moves the session's latest activity: one
# statement, built once, since every reply ends with it (`clear_parameters`).
_columns = SESSIONS_TABLE.c
_ours = _columns.replying_token == bindparam("token")
CLEAR_MARK = (
    update(SESSIONS_TABLE)
    .where(_columns.id == bindparam("session_id"))
    .values(
        replying_since=case((_ours, None), else_=_columns.replying_since),
        replying_token=case((_ours, None), else_=_columns.replying_token),
        reply_cancel_requested=case((_ours, false()), else_=_columns.reply_cancel_requested),
        last_activity_at=func.coalesce(
            bindparam("activity_at", type_=_columns.last_activity_at.type),
            _columns.last_activity_at,
        ),
    )
)


def clear_parameters(mark: ReplyMark, *, activity_at: datetime | None) -> dict[str, Any]:
    return {"session_id": mark.session_id, "token": mark.token, "activity_at": activity_at}


def release(app: Flask, mark: ReplyMark) -> None:
    """Clear the mark in a transaction of its own (for failure and clean-up paths)."""
    _update_own_mark(
        app, mark, replying_since=None, replying_token=None, reply_cancel_requested=False
    )


def renew(app: Flask, mark: ReplyMark) -> None:
    """Keep a reply's mark from expiring (the keeper does this every few seconds)."""
    _update_own_mark(app, mark, replying_since=_now())


class MarkKeeper:
    """Renews the marks of the replies this process is writing, all in one statement
    every `every` seconds, from one thread that runs only while there are marks."""

    def __init__(self, app: Flask, every: float = RENEW_EVERY_SECONDS) -> None:
        self.app = app
        self.every = every
        self._kept: dict[str, tuple[ReplyMark, float]] = {}
        self._lock = threading.Lock()
        self._running = False
        # Set when the process is about to end: its replies stop at their next piece
        # of text and store what they have.
        self.stopping = threading.Event()

    def keep(self, mark: ReplyMark) -> None:
        with self._lock:
            self._kept[mark.token] = (mark, time.monotonic())
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._renew_while_kept, name="coach-marks", daemon=True).start()

    def drop(self, mark: ReplyMark) -> None:
        with self._lock:
            self._kept.pop(mark.token, None)

    def stop_replies(self) -> None:
        """End this process's replies soon, each kept as far as it got."""
        self.stopping.set()

    def kept(self) -> list[ReplyMark]:
        with self._lock:
            return [mark for mark, _since in self._kept.values()]

    def _renew_while_kept(self) -> None:
        while True:
            time.sleep(self.every)
            with self._lock:
                too_old = time.monotonic() - LONGEST_REPLY_SECONDS
                for token in [t for t, (_m, since) in self._kept.items() if since < too_old]:
                    del self._kept[token]
                tokens = list(self._kept)
                if not tokens:
                    self._running = False
                    return
            try:
                with short_transaction(self.app) as db:
                    db.execute(
                        update(CoachingSession)
                        .where(CoachingSession.replying_token.in_(tokens))
                        .values(replying_since=_now())
                    )
            except Exception:
                # The next round tries again; a mark lives for several rounds.
                log.exception("could not renew %d reply marks", len(tokens))


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = MarkKeeper(app)


def mark_keeper(app: Flask | None = None) -> MarkKeeper:
    keeper: MarkKeeper = (app or current_app).extensions[EXTENSION_KEY]
    return keeper


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
