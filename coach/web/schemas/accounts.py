"""What the API answers about the caller's account: who they are, the bearer token
that names them, and the export of everything stored about them (privacy)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from coach.counsel.schema import Note
from coach.plans.schema import Checkin, Plan
from coach.storage.models import ROLES
from coach.storage.timestamps import Timestamp
from coach.web.schemas.base import OneOf, ResponseShape


class User(ResponseShape):
    """Who the caller is."""

    id: int
    role: Annotated[str, OneOf(ROLES)]
    is_guest: bool
    email: str | None


class TokenGrant(ResponseShape):
    """A bearer token for `Authorization: Bearer <token>`, and whose it is."""

    token: str
    user: User


class ExportedUser(ResponseShape):
    id: int
    email: str | None
    role: str
    is_guest: bool
    created_at: Timestamp


class ExportedMessage(ResponseShape):
    id: int
    role: str
    content: str
    stage: str
    status: str
    model: str | None
    created_at: Timestamp


class ExportedSession(ResponseShape):
    id: int
    title: str
    stage: str
    shared: bool
    flags: list[str]
    reflection: dict[str, Any]
    summary: str
    created_at: Timestamp
    messages: list[ExportedMessage]


class Export(ResponseShape):
    """Everything stored about the caller."""

    user: ExportedUser
    sessions: list[ExportedSession]
    plans: list[Plan] = Field(description="Every version of every session's plan.")
    checkins: list[Checkin] = Field(description="The mood check-ins of every session.")
    notes: list[Note] = Field(
        description="The counselors' notes on any of the caller's sessions that were "
        "marked visible to the caller."
    )
    exported_at: Timestamp
