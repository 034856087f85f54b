"""The rolling summary rewritten by a model, in the background.

A complete reply that fills the recent window folds its oldest chunk of turns into
the summary as short deterministic notes (`coach.coaching.transcript`). When the
provider can write summaries, a model later rewrites the summary with those notes'
turns in full; the notes stay as the fallback whenever the model fails or is not
configured, and they keep the prompt's size bounded meanwhile.

When the record is read only once a stage ends (`COACH_RECORD_READING =
"stage_change"`), the rewrite waits for that reading and is asked in the same
request (`coach.coaching.combined_reading`), so that it costs no request of its
own. It is asked on its own only when the folded messages no model has summarised
may outgrow `notes_cap` (`unsummarised_messages`): the turns a rewrite shows in
full stay bounded, and every folded turn is shown to a model in full, even one
whose note was dropped for space. With a reading after every turn, the summary is
rewritten right after its fold, as before.

A rewrite is kept only if the summary did not change meanwhile: a turn folded in
between is summarised again by the next rewrite.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coach.coaching.prompts import prompt_book
from coach.coaching.transcript import (
    SUMMARY_GAP,
    conversation_history,
    has_turn_notes,
    recent_window,
    turn_notes,
)
from coach.errors import ModelUnavailable
from coach.providers import ChatTurn, provider
from coach.safety.screening import last_fixed_reply_id
from coach.storage.database import short_transaction
from coach.storage.models import CoachingSession, Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingSummary:
    """A summary that holds notes no model has summarised, and the turns behind the
    newest of those notes, in full, oldest first."""

    summary: str
    # How many folded messages, at most, no model has summarised yet.
    unsummarised: int
    turns: list[ChatTurn]


def notes_cap(app: Flask) -> int:
    """The most folded messages that may wait for the next record reading: as many
    as a stage-change reading shows (the recent ones and a chunk)."""
    return int(app.config["COACH_RECENT_MESSAGES"] + app.config["COACH_FOLD_CHUNK"])


def unsummarised_messages(coaching_session: CoachingSession) -> int:
    """How many folded messages, at most, no model has summarised: one a note, while
    the notes hold them all. Once notes were dropped for space, any message of this
    stage may be among them (the stage's first reading rewrote what was folded
    before it), and one more turn's for the turn that changed the stage."""
    summary = coaching_session.summary
    notes = turn_notes(summary)
    if SUMMARY_GAP not in summary.splitlines():
        return notes
    return max(notes, 2 * (coaching_session.stage_turns + 1))


def pending_summary(
    app: Flask, db: Session, coaching_session: CoachingSession
) -> PendingSummary | None:
    """The summary's notes waiting for a model, or None when there are none."""
    summary = coaching_session.summary
    if not has_turn_notes(summary):
        return None
    through = coaching_session.summary_through_id
    # As with the record: no turn from before the last fixed safety reply.
    after = last_fixed_reply_id(db, coaching_session.id, before=through + 1) or 0
    # The turns no model has summarised, in full. At most the cap and one fold's
    # chunk beyond it: the notes never wait longer than that.
    unsummarised = unsummarised_messages(coaching_session)
    shown = notes_cap(app) + app.config["COACH_FOLD_CHUNK"] + 1
    newest_first = db.scalars(
        select(Message)
        .where(Message.coaching_session_id == coaching_session.id)
        .where(Message.id > after, Message.id <= through)
        .order_by(Message.id.desc())
        .limit(min(unsummarised, shown))
    ).all()
    history = conversation_history(list(reversed(newest_first)))
    return PendingSummary(summary, unsummarised, recent_window(history, 0, len(history)))


def summary_instructions(app: Flask) -> str:
    return prompt_book(app).render("summary.j2", max_chars=app.config["COACH_SUMMARY_MAX_CHARS"])


def rewrite_summary(app: Flask, session_id: int, *, only_if_overdue: bool = False) -> None:
    """Let the model fold the summary's turn notes into a summary of its own; with
    `only_if_overdue`, only when more notes wait than `notes_cap` allows."""
    chosen = provider(app)
    if not chosen.writes_summary:
        return
    with short_transaction(app, read_only=True) as db:
        pending = pending_summary(app, db, db.get_one(CoachingSession, session_id))
    if pending is None or (only_if_overdue and pending.unsummarised <= notes_cap(app)):
        return
    try:
        written = chosen.write_summary(summary_instructions(app), pending.summary, pending.turns)
    except ModelUnavailable as exc:
        log.warning("summary of session %s not rewritten: %s", session_id, exc.code)
        return
    keep_summary(app, session_id, pending, written)


def keep_summary(app: Flask, session_id: int, pending: PendingSummary, written: str | None) -> None:
    """Store a model's rewrite of `pending`, unless it is empty or too long (the notes
    stand) or the summary changed since it was read (the next rewrite covers it)."""
    if not written or len(written) > app.config["COACH_SUMMARY_MAX_CHARS"]:
        return
    with short_transaction(app) as db:
        coaching_session = db.get_one(CoachingSession, session_id, with_for_update=True)
        if coaching_session.summary == pending.summary:
            coaching_session.summary = written
