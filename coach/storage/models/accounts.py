"""Who uses the coach: users (seekers, counselors, admins, guests) and the API
tokens they sign in with."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coach.storage.models.base import Base, utcnow

if TYPE_CHECKING:
    from coach.storage.models.conversation import CoachingSession

ROLES = ("seeker", "counselor", "admin")
DISPLAY_NAME_CHARS = 100


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
    # When the user last signed out in a browser: a cookie session signed in
    # before it is over, wherever its cookie is kept.
    signed_out_at: Mapped[datetime | None] = mapped_column(default=None)

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
