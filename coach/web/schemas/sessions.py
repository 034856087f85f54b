"""What the API answers about a seeker's sessions: a session and a page of them,
its messages and the turn that adds one, the safety help a reply carries, the
reflection record, and the counselors' notes shared with the seeker.

`coach.web.representations` builds these from the stored rows.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic.experimental.missing_sentinel import MISSING

from coach.counsel.schema import Note
from coach.guide.frameworks import CAUSES
from coach.plans.schema import Checkin, Plan, PlanVersions
from coach.storage.models import MESSAGE_ROLES, MESSAGE_STATUSES
from coach.storage.timestamps import Timestamp
from coach.web.schemas.base import OneOf, ResponseShape, Stage

# The plan's shapes live with the plans (`coach.plans.schema`), where generation
# validates against them; the API answers with them as they are.
PLAN_RESPONSES = (Plan, PlanVersions, Checkin)


class HelpLine(ResponseShape):
    name: str
    how: list[Literal["call", "text", "web"]]
    number: str | None
    tel: str | None = Field(description="The digits for a `tel:` link.")
    text_keyword: str | None
    url: str | None
    hours: str
    free: bool
    about: str | None


class EmergencyNumber(ResponseShape):
    number: str
    tel: str


class CrisisResources(ResponseShape):
    """The helplines and emergency numbers of the region the app serves."""

    region: str
    name: str
    lines: list[HelpLine]
    emergency: list[EmergencyNumber]


class Safety(ResponseShape):
    """On a reply the safety rules shaped: which rule, and the help to reach now."""

    kind: Literal["crisis", "check_in", "safe_again", "distress", "guarded"]
    resources: CrisisResources | None = Field(
        description="With a crisis reply and the check-ins after it: show these prominently."
    )


class Message(ResponseShape):
    """One stored message of a conversation."""

    id: int
    role: Annotated[str, OneOf(MESSAGE_ROLES)]
    content: str
    content_html: str = Field(
        description="`content` as sanitised HTML (Markdown, raw HTML off, no images)."
    )
    stage: Stage
    status: Annotated[str, OneOf(MESSAGE_STATUSES)]
    created_at: Timestamp
    html: str = Field(
        description="The message's whole article as the chat page shows it (sanitised)."
    )
    safety: Safety | MISSING = Field(
        default=MISSING, description="Only on a reply the safety rules shaped."
    )
    disclosure: str | MISSING = Field(
        default=MISSING,
        description="On the conversation's first reply: what the coach is, what it is "
        "not, and what is stored (plain text).",
    )
    choices: list[str] = Field(
        default_factory=list,
        description="On a coach message: quick replies. Picking one sends its text as "
        "the seeker's next message; free text works as well.",
    )


class ReflectedCause(ResponseShape):
    """A likely cause of the rejection and what the seeker said that points to it."""

    cause: Annotated[str, OneOf(CAUSES)]
    label: str = Field(description="The cause as people read it, e.g. `Skills gap`.")
    evidence: str


class Reflection(ResponseShape):
    """The reflection record: what the seeker confirmed so far, which they may correct."""

    emotions: list[str]
    likely_causes: list[ReflectedCause]
    cause_unknown: bool = Field(description="The seeker said the cause cannot be known yet.")
    feedback: list[str] = Field(description="What the employer said.")
    strengths: list[str]
    goals: list[str]
    routine: list[str]
    support: list[str]


class Session(ResponseShape):
    """A coaching session; `messages` and `reflection` only where one session is shown."""

    id: int
    title: str
    stage: Stage
    shared: bool
    show_name: bool = Field(description="While shared: counselors see the seeker's name.")
    flags: list[str]
    replying: bool = Field(description="Whether the coach is writing a reply right now.")
    careful: bool = Field(
        description="Careful mode, after a crisis: the coach checks in and keeps the "
        "resources in view until the seeker says they are safe."
    )
    created_at: Timestamp
    updated_at: Timestamp
    messages: list[Message] | MISSING = Field(
        default=MISSING,
        description="The newest messages (or those before `before`), oldest first.",
    )
    has_earlier: bool | MISSING = Field(
        default=MISSING,
        description="With `messages`: whether older ones come before the first; ask "
        "for them with `before` set to its `id`.",
    )
    retry_offered: bool | MISSING = Field(
        default=MISSING,
        description="With `messages`: whether `/retry` would answer the last message again.",
    )
    reflection: Reflection | MISSING = MISSING


class SessionPage(ResponseShape):
    """The caller's sessions, newest first, one page of them."""

    items: list[Session]
    page: int
    per_page: int
    total: int


class Turn(ResponseShape):
    """The stored message of the seeker and the coach's stored reply to it."""

    user_message: Message
    reply: Message


class Cancelling(ResponseShape):
    """The reply will stop soon; what it wrote so far is kept as partial."""

    cancelling: Literal[True]


class NoteList(ResponseShape):
    """The counselors' notes on the caller's session that are marked for them."""

    items: list[Note]
