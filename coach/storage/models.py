"""The stored data: users and their API tokens, coaching sessions and their messages,
action plans (versions, goals, steps, resources, journal entries), mood check-ins,
counselors' notes, the coach replies' strategy labels and the audit log of who read
or changed what.

A coaching session is called `CoachingSession` so that it cannot be mistaken for
Flask's cookie session or SQLAlchemy's database session.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Mapper,
    attributes,
    mapped_column,
    relationship,
    validates,
)
from sqlalchemy.sql import Select

from coach.storage.message_html import render_markdown

ROLES = ("seeker", "counselor", "admin")
MESSAGE_ROLES = ("user", "assistant")
MESSAGE_STATUSES = ("complete", "partial", "failed")
DEFAULT_TITLE = "After the second interview"
MAX_TITLE_CHARS = 200
MODEL_NAME_CHARS = 200
PLAN_TEXT_CHARS = 500
CHECKIN_MOMENTS = ("start", "end")
JOURNAL_KINDS = ("learned", "went_well")
DISPLAY_NAME_CHARS = 100
# The text search configuration of the full-text index: "simple" splits words and
# lowercases them, with no stemming that would suit one language only.
FULLTEXT_CONFIGURATION = "'simple'"
# What the audit log records: a counselor reading or exporting a transcript, a
# counselor's note, a seeker's consent given or withdrawn, and tokens revoked.
AUDIT_ACTIONS = (
    "transcript_read",
    "transcript_export",
    "note_added",
    "consent_given",
    "consent_withdrawn",
    "name_shown",
    "name_hidden",
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        date: Date,
        dict[str, Any]: JSON,
    }


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="seeker")
    # The name a seeker chose to show to counselors on the sessions they share
    # with their name; never required.
    display_name: Mapped[str | None] = mapped_column(String(DISPLAY_NAME_CHARS))
    is_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    coaching_sessions: Mapped[list[CoachingSession]] = relationship(
        back_populates="owner", cascade="all, delete-orphan", passive_deletes=True
    )


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, so a leaked table grants nothing."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # After this a token is refused. Tokens issued before expiry existed have none
    # and are judged by their age (`coach.web.auth`).
    expires_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(back_populates="tokens")


class CoachingSession(Base):
    __tablename__ = "coaching_sessions"
    # The counselors' dashboard lists shared sessions by latest activity, optionally
    # only flagged ones or one stage's, a page at a time from a (time, id) key.
    __table_args__ = (
        Index("ix_coaching_sessions_shared_activity", "shared", "last_activity_at", "id"),
        Index(
            "ix_coaching_sessions_shared_flagged_activity",
            "shared",
            "flagged",
            "last_activity_at",
            "id",
        ),
        Index(
            "ix_coaching_sessions_shared_stage_activity",
            "shared",
            "stage",
            "last_activity_at",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE_CHARS), default=DEFAULT_TITLE)
    stage: Mapped[str] = mapped_column(String(20), default="emotions")
    # User turns answered since the stage was entered; the engine only leaves a
    # stage after the coach has answered in it at least once.
    stage_turns: Mapped[int] = mapped_column(Integer, default=0)
    # The seeker's consent: counselors may read the session only while it is true.
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    # With consent to share: whether counselors see the seeker's name, not a pseudonym.
    show_name: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Whether `flags` holds anything, kept in step by `_keep_flagged`, so that the
    # dashboard's filter is an indexed column rather than a look into JSON.
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The rolling summary covers every message up to and including this id.
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_through_id: Mapped[int] = mapped_column(Integer, default=0)
    reflection: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set while the coach is answering, so that a second tab or an impatient
    # client cannot start another reply to the same conversation meanwhile.
    replying_since: Mapped[datetime | None] = mapped_column()
    replying_token: Mapped[str | None] = mapped_column(String(32))
    # Set by a cancel request (from any instance); the reply that holds the mark
    # sees it, stops, and keeps what it wrote as partial.
    reply_cancel_requested: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    # The model's reading of the record covers every message up to this id, so that
    # a turn decides its stage on a record that does not depend on timing.
    refined_through_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Careful mode: set when a crisis was seen; the coach checks in and keeps the
    # resources in view until the seeker says they are safe (or a counselor clears it).
    careful_since: Mapped[datetime | None] = mapped_column()
    # What the coach's last turn proposed and asked (`coach.coaching.dialogue`): the
    # next turn reads the seeker's answer against it, from stored state only.
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # When the latest message was stored (or the session made): kept by
    # `_note_activity` on every message insert, whichever code stores it.
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User] = relationship(back_populates="coaching_sessions")
    messages: Mapped[list[Message]] = relationship(
        back_populates="coaching_session",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Message.id",
    )

    @validates("flags")
    def _keep_flagged(self, _key: str, flags: list[str]) -> list[str]:
        self.flagged = bool(flags)
        return flags

    @staticmethod
    def owned_by(user_id: int) -> Select[CoachingSession]:
        """The user's sessions, newest first."""
        return (
            select(CoachingSession)
            .where(CoachingSession.owner_id == user_id)
            .order_by(CoachingSession.created_at.desc(), CoachingSession.id.desc())
        )


class Message(Base):
    __tablename__ = "messages"
    # PostgreSQL only: the counselors' full-text search reads through it (SQLite
    # searches with LIKE). `coach.counsel.dashboard` writes the same expression.
    __table_args__ = (
        Index(
            "ix_messages_content_fulltext",
            func.to_tsvector(literal_column(FULLTEXT_CONFIGURATION), text("content")),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coaching_session_id: Mapped[int] = mapped_column(
        ForeignKey("coaching_sessions.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    # `content` as safe HTML, rendered once when the content is written (by
    # `_render_content`, whichever code writes it through the ORM; a bulk UPDATE of
    # `content` would have to set it too); NULL on rows stored before there was
    # this column, which `shown_html` renders when they are read.
    content_html: Mapped[str | None] = mapped_column(Text)
    stage: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="complete")
    # For an assistant message: the user message it answers.
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    model: Mapped[str | None] = mapped_column(String(MODEL_NAME_CHARS))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    # For a reply the safety rules wrote ("crisis", "check_in", ...): which one, so
    # that the page and the API show the resources with it.
    safety: Mapped[str | None] = mapped_column(String(20))
    # The conversation's first reply says what the coach is and what is stored.
    discloses: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # For a coach message: the quick replies offered under it; picking one sends its
    # label as the seeker's next message.
    choices: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    coaching_session: Mapped[CoachingSession] = relationship(back_populates="messages")

    @staticmethod
    def in_session(coaching_session_id: int) -> Select[Message]:
        return (
            select(Message)
            .where(Message.coaching_session_id == coaching_session_id)
            .order_by(Message.id)
        )

    def shown_html(self) -> str:
        """The content as safe HTML: as stored, or rendered now for an older row."""
        if self.content_html is not None:
            return self.content_html
        return render_markdown(self.content, session_id=self.coaching_session_id)


@event.listens_for(Message, "before_insert")
@event.listens_for(Message, "before_update")
def _render_content(_mapper: Mapper[Message], _connection: Connection, message: Message) -> None:
    """The HTML is written with the content it comes from, in the same statement.

    At flush time, not when `content` is assigned: only then is the session id (which
    decides the one relative link a message may carry) sure to be set."""
    written = ("content", "coaching_session_id")
    changed = any(attributes.get_history(message, name).has_changes() for name in written)
    if changed or message.content_html is None:
        session_id = message.coaching_session_id
        message.content_html = render_markdown(message.content, session_id=session_id)


@event.listens_for(Message, "after_insert")
def _note_activity(_mapper: Mapper[Message], connection: Connection, message: Message) -> None:
    """A stored message is activity in its session (for the dashboard's order)."""
    connection.execute(
        update(CoachingSession.__table__)  # type: ignore[arg-type]
        .where(CoachingSession.__table__.c.id == message.coaching_session_id)
        .values(last_activity_at=message.created_at or utcnow())
    )


class SafetyEvent(Base):
    """Something the safety rules saw or did: a crisis screened, careful mode left, a
    model reply withheld. Never the seeker's words: only what kind of event, which
    rules, and when. A deleted session leaves its events behind without a link, so
    that the daily counts of referrals stay true and carry no personal data."""

    __tablename__ = "safety_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    coaching_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("coaching_sessions.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Plan(Base):
    """One version of a session's action plan; generating again adds the next version.

    The goals, steps and resources are rows (they are edited and ticked off one by
    one); what is only ever shown whole (insights, routine, support) is JSON. Rows go
    with their session by the database's cascade, so that every way of deleting a
    session or a user (the ORM, a bulk delete, the guest purge) takes its plans too.
    """

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("coaching_session_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coaching_session_id: Mapped[int] = mapped_column(
        ForeignKey("coaching_sessions.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    headline: Mapped[str] = mapped_column(Text)
    horizon_weeks: Mapped[int] = mapped_column(Integer)
    insights: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    routine: Mapped[list[str]] = mapped_column(JSON, default=list)
    support: Mapped[list[str]] = mapped_column(JSON, default=list)
    review_on: Mapped[date] = mapped_column()
    # The model that wrote it; "guided" for a plan built from the templates.
    model: Mapped[str] = mapped_column(String(MODEL_NAME_CHARS))

    goals: Mapped[list[PlanGoal]] = relationship(
        back_populates="plan",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PlanGoal.position",
    )
    journal: Mapped[list[JournalEntry]] = relationship(
        back_populates="plan",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="JournalEntry.id",
    )

    @staticmethod
    def of_session(coaching_session_id: int) -> Select[Plan]:
        """The session's plans, newest version first."""
        return (
            select(Plan)
            .where(Plan.coaching_session_id == coaching_session_id)
            .order_by(Plan.version.desc())
        )


class PlanGoal(Base):
    __tablename__ = "plan_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(PLAN_TEXT_CHARS))
    why: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(30))

    plan: Mapped[Plan] = relationship(back_populates="goals")
    steps: Mapped[list[PlanStep]] = relationship(
        back_populates="goal",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PlanStep.position",
    )
    resources: Mapped[list[PlanResource]] = relationship(
        back_populates="goal",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PlanResource.id",
    )


class PlanStep(Base):
    __tablename__ = "plan_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(
        ForeignKey("plan_goals.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(PLAN_TEXT_CHARS))
    due: Mapped[date | None] = mapped_column()
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None] = mapped_column()

    goal: Mapped[PlanGoal] = relationship(back_populates="steps")


class PlanResource(Base):
    __tablename__ = "plan_resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(
        ForeignKey("plan_goals.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(PLAN_TEXT_CHARS))
    url: Mapped[str | None] = mapped_column(String(2000))

    goal: Mapped[PlanGoal] = relationship(back_populates="resources")


class JournalEntry(Base):
    """What the seeker learned or what went well, written beside a plan."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan: Mapped[Plan] = relationship(back_populates="journal")


class MoodCheckin(Base):
    """How the seeker felt (1 to 5) at the start or the end of a session."""

    __tablename__ = "mood_checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    coaching_session_id: Mapped[int] = mapped_column(
        ForeignKey("coaching_sessions.id", ondelete="CASCADE"), index=True
    )
    moment: Mapped[str] = mapped_column(String(10))
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @staticmethod
    def in_session(coaching_session_id: int) -> Select[MoodCheckin]:
        return (
            select(MoodCheckin)
            .where(MoodCheckin.coaching_session_id == coaching_session_id)
            .order_by(MoodCheckin.id)
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
