"""The conversation itself: coaching sessions, their messages, and the safety events
the crisis rules record about them.

A coaching session is called `CoachingSession` so that it cannot be mistaken for
Flask's cookie session or SQLAlchemy's database session. Flush listeners keep
facts about messages true whichever code stores them through the ORM: a message's
HTML is written with its content (`_render_content`), and a stored message moves
its session's latest activity (`_note_activity_on_session`, else `_note_activity`).
A turn's own two messages are stored without a flush, and keep both facts there
(`coach.storage.turn_rows`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from weakref import WeakSet

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
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
    Mapped,
    Mapper,
    Session,
    attributes,
    mapped_column,
    object_session,
    relationship,
    validates,
)
from sqlalchemy.orm.util import identity_key
from sqlalchemy.sql import Select

from coach.storage.message_html import render_markdown
from coach.storage.models.base import MODEL_NAME_CHARS, Base, utcnow

if TYPE_CHECKING:
    from coach.storage.models.accounts import User

MESSAGE_ROLES = ("user", "assistant")
MESSAGE_STATUSES = ("complete", "partial", "failed")
DEFAULT_TITLE = "After the second interview"
MAX_TITLE_CHARS = 200
# The text search configuration of the full-text index: "simple" splits words and
# lowercases them, with no stemming that would suit one language only.
FULLTEXT_CONFIGURATION = "'simple'"


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
    # `_note_activity` on every message inserted through the ORM, and by the turn's
    # own UPDATE for the two it stores without (`coach.storage.turn_rows`).
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
    __table_args__ = (
        # A session's messages in order: a page of the conversation (newest first,
        # before an id) is read straight off it with no sort, and every other
        # look-up by session (and the cascade from a deleted session) uses it too.
        Index("ix_messages_coaching_session_id_id", "coaching_session_id", "id"),
        # PostgreSQL only: the counselors' full-text search reads through it (SQLite
        # searches with LIKE). `coach.counsel.dashboard` writes the same expression.
        Index(
            "ix_messages_content_fulltext",
            func.to_tsvector(literal_column(FULLTEXT_CONFIGURATION), text("content")),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coaching_session_id: Mapped[int] = mapped_column(
        ForeignKey("coaching_sessions.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    # `content` as safe HTML, rendered once when the content is written (by
    # `_render_content`, whichever code writes it through the ORM, and by
    # `insert_message` for a turn's messages; a bulk UPDATE of `content` would have
    # to set it too); NULL on rows stored before there was this column, which
    # `shown_html` renders when they are read.
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


# The two tables as Core sees them, for the turn's plain statements (built once and
# run without the unit of work: `coach.coaching.reply_storage`).
SESSIONS_TABLE: Table = CoachingSession.__table__  # type: ignore[assignment]
MESSAGES_TABLE: Table = Message.__table__  # type: ignore[assignment]


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


# The messages of a database session whose activity `_note_activity_on_session` noted.
ACTIVITY_NOTED = "coach.activity_noted"


@event.listens_for(Session, "before_flush")
def _note_activity_on_session(db: Session, _context: Any, _instances: Any) -> None:
    """A new message whose coaching session is loaded beside it sets the session's
    activity there: one UPDATE of the session in the flush (which writes its reply
    mark or stage anyway), not one more after the insert."""
    for new in db.new:
        if not isinstance(new, Message) or new.coaching_session_id is None:
            continue
        loaded = db.identity_map.get(identity_key(CoachingSession, new.coaching_session_id))
        if isinstance(loaded, CoachingSession):
            new.created_at = new.created_at or utcnow()
            loaded.last_activity_at = new.created_at
            db.info.setdefault(ACTIVITY_NOTED, WeakSet()).add(new)


@event.listens_for(Message, "after_insert")
def _note_activity(_mapper: Mapper[Message], connection: Connection, message: Message) -> None:
    """A stored message is activity in its session (for the dashboard's order), if
    `_note_activity_on_session` did not note it."""
    db = object_session(message)
    if db is not None and message in db.info.get(ACTIVITY_NOTED, ()):
        return
    connection.execute(
        update(SESSIONS_TABLE)
        .where(SESSIONS_TABLE.c.id == message.coaching_session_id)
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
