"""What counselors leave and what is kept about their review (`coach.counsel` owns
the logic): their notes on shared sessions, the coach replies' strategy labels for
the quality panel, and the audit log of who read or changed what."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import Select

from coach.storage.models.base import MODEL_NAME_CHARS, Base, utcnow
from coach.storage.models.conversation import Message

if TYPE_CHECKING:
    from coach.storage.models.accounts import User

# What the audit log records: a counselor reading or exporting a transcript, a
# counselor's note added, changed or deleted, a seeker's consent given or withdrawn,
# and their name shown or hidden.
AUDIT_ACTIONS = (
    "transcript_read",
    "transcript_export",
    "transcript_search",
    "note_added",
    "note_changed",
    "note_deleted",
    "consent_given",
    "consent_withdrawn",
    "name_shown",
    "name_hidden",
)


class CounselorNote(Base):
    """A counselor's note on a shared session, or on one message of it. Never part of
    any prompt: only the counselor pages and, when visible, the seeker's plan show it."""

    __tablename__ = "counselor_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    coaching_session_id: Mapped[int] = mapped_column(
        ForeignKey("coaching_sessions.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    visible_to_seeker: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When its author last changed its words or who sees it, if they have.
    edited_at: Mapped[datetime | None] = mapped_column(default=None)

    author: Mapped[User | None] = relationship()

    @staticmethod
    def in_session(coaching_session_id: int) -> Select[CounselorNote]:
        return (
            select(CounselorNote)
            .where(CounselorNote.coaching_session_id == coaching_session_id)
            .order_by(CounselorNote.id)
        )


class ReplyLabel(Base):
    """A coach reply's support strategy as labelled once for the counselors' quality
    panel, so that a transcript is not sent to the model again on every read.

    `source` is "model" (a model's structured answer, `model` names it) or "rules"
    (the model was asked but its label for this reply did not fit, so the rules
    stand for it and it is not asked again)."""

    __tablename__ = "strategy_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    strategy: Mapped[str] = mapped_column(String(30))
    # "simple" or "complex" when the reply reflects, else null.
    reflection: Mapped[str | None] = mapped_column(String(10))
    # How many questions the reply asks (the MI ratio's divisor).
    questions: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(10))
    model: Mapped[str | None] = mapped_column(String(MODEL_NAME_CHARS))
    labelled_at: Mapped[datetime] = mapped_column(default=utcnow)

    @staticmethod
    def in_session(coaching_session_id: int) -> Select[ReplyLabel]:
        return (
            select(ReplyLabel)
            .join(Message, Message.id == ReplyLabel.message_id)
            .where(Message.coaching_session_id == coaching_session_id)
        )


class AuditEntry(Base):
    """One line of the audit log: who did what to which session, and when.

    Ids only, no foreign keys: the line outlives a deleted session or user, and
    holds none of their words. Nothing in the app updates or deletes a line."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    coaching_session_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[str] = mapped_column(String(300), default="")
