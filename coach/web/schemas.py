"""The shapes of the HTTP contract, once: what the JSON API takes and what it answers.

Requests are checked against these models (`coach.web.api.requests`), responses
are built and serialised through them (`coach.web.representations`), and the
OpenAPI document is generated from them (`coach.web.openapi`). A field added here
appears in all three.

`MISSING` marks a field that may be absent but is never null: a PATCH that leaves
it out changes nothing, and a session listed without its messages has no
`messages` key at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
)
from pydantic.experimental.missing_sentinel import MISSING
from pydantic_core import core_schema

from coach.coaching.record_corrections import LIST_FIELDS
from coach.coaching.sessions import MAX_MESSAGES_SHOWN, MAX_PER_PAGE, MESSAGES_SHOWN
from coach.counsel.schema import DashboardFilters, Note, NoteCreate
from coach.guide.frameworks import CAUSES, STAGES
from coach.guide.record import MAX_ITEM_CHARS
from coach.plans.schema import (
    MAX_JOURNAL_CHARS,
    Checkin,
    JournalKind,
    Moment,
    Plan,
    PlanVersions,
)
from coach.providers import PROVIDERS
from coach.storage.models import (
    MAX_TITLE_CHARS,
    MESSAGE_ROLES,
    MESSAGE_STATUSES,
    PLAN_TEXT_CHARS,
    ROLES,
)
from coach.storage.timestamps import Timestamp


@dataclass(frozen=True)
class OneOf:
    """A string from a tuple that another area keeps as the one list of its values
    (the roles, the statuses): validated as, and documented as, an enum."""

    choices: tuple[str, ...]

    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.literal_schema(list(self.choices))


# The largest id either database stores (a 32-bit integer); a bigger one in a
# query is refused, before SQLite would fail to bind it.
MAX_ID = 2_147_483_647

Stage = Annotated[str, OneOf(STAGES)]
Title = Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS)]


class RequestShape(BaseModel):
    """A JSON body the API accepts. Strict: `"yes"` is not a boolean, 42 not a string.

    No string in any body may hold a NUL character or a lone surrogate (`\\ud800`):
    `coach.web.api.requests` refuses those for every shape at once."""

    model_config = ConfigDict(strict=True)
    # Whether a request may come without any body at all.
    body_optional: ClassVar[bool] = False


class QueryShape(BaseModel):
    """Query-string arguments; they arrive as text, so numbers are parsed from it."""


class ResponseShape(BaseModel):
    """A JSON body the API answers with. A key not declared here is a bug, not data."""

    model_config = ConfigDict(extra="forbid")


# Requests


class Login(RequestShape):
    """An email and password to exchange for a bearer token."""

    email: str
    password: str


class SessionCreate(RequestShape):
    """A new session; without a title it is named after the seeker's first message."""

    body_optional: ClassVar[bool] = True
    title: Title | None = None


class SessionUpdate(RequestShape):
    """The fields to change; at least one."""

    # The service refuses an empty change; the document says so too.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    title: Title | MISSING = MISSING
    stage: Stage | MISSING = MISSING
    shared: bool | MISSING = Field(
        default=MISSING, description="Whether counselors may read this session."
    )
    show_name: bool | MISSING = Field(
        default=MISSING,
        description="Whether counselors see the seeker's name (else a pseudonym) while shared.",
    )


class MessageCreate(RequestShape):
    """The seeker's message."""

    content: str = Field(
        description="Not blank, at most COACH_MAX_MESSAGE_CHARS (4000 by default) characters."
    )


class PlanCreate(RequestShape):
    """How far ahead the plan looks."""

    body_optional: ClassVar[bool] = True
    # The choices are `coach.plans.schema.HORIZONS`; a test checks that the two agree.
    horizon_weeks: Literal[2, 4, 8] = Field(
        default=4, description="Two, four or eight weeks from today."
    )


def _iso_date_text(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("expected an ISO date such as 2026-03-31")  # not a timestamp
    return value


# Dates come as ISO strings in JSON, so these fields are not strict about their type;
# but only strings: a number would otherwise be read as seconds since 1970.
DueDate = Annotated[date, Field(strict=False), BeforeValidator(_iso_date_text)]


def _not_blank(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise ValueError("must not be blank")
    return stripped


# Text the seeker writes into a plan: its length as sent is checked first, so that
# the document's maxLength holds; surrounding whitespace is dropped after.
StepText = Annotated[
    str, Field(min_length=1, max_length=PLAN_TEXT_CHARS), AfterValidator(_not_blank)
]
JournalBody = Annotated[
    str, Field(min_length=1, max_length=MAX_JOURNAL_CHARS), AfterValidator(_not_blank)
]


class StepUpdate(RequestShape):
    """Tick a step off or on, or change its title or due date; at least one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})
    done: bool | MISSING = MISSING
    title: StepText | MISSING = MISSING
    due: DueDate | MISSING | None = Field(
        default=MISSING, description="An ISO date; null for no date."
    )


class StepCreate(RequestShape):
    """A new step at the end of a goal."""

    title: StepText
    due: DueDate | None = Field(default=None, description="An ISO date; null for no date.")


class GoalUpdate(RequestShape):
    """A goal's new title."""

    title: StepText


class JournalCreate(RequestShape):
    """A journal entry beside a plan: what the seeker learned, or what went well."""

    kind: JournalKind
    body: JournalBody


class CheckinCreate(RequestShape):
    """How the seeker feels right now, from 1 (very low) to 5 (very good)."""

    moment: Moment = Field(description="`start` or `end` of the session.")
    score: int = Field(ge=1, le=5)


class PlanQuery(QueryShape):
    version: int | None = Field(
        default=None, ge=1, le=999_999, description="An earlier version; the latest if left out."
    )


class ReflectionCorrection(RequestShape):
    """One entry of the reflection record to edit, or (with `value` null) to remove."""

    model_config = ConfigDict(extra="forbid")
    field: Annotated[str, OneOf(LIST_FIELDS)] = Field(description="The record's list.")
    index: int = Field(ge=0, description="The entry's position in that list, from 0.")
    value: Annotated[str, Field(min_length=1, max_length=MAX_ITEM_CHARS)] | None = Field(
        description="The entry's new text (for a likely cause, its evidence), or null"
        " to remove it. Kept on one line; no NUL or other control characters."
    )
    was: str | MISSING = Field(
        default=MISSING,
        description="The entry's text as the client showed it (for a likely cause, its"
        " evidence): if the record has changed there meanwhile, 409 `record_changed`.",
    )


class CounselorSessionsQuery(DashboardFilters, QueryShape):
    """The counselors' dashboard: filters, search and the page to show."""


class NoteBody(NoteCreate, RequestShape):
    """A counselor's note: on the session, or on one of its messages."""


class AuditQuery(QueryShape):
    before: int | None = Field(default=None, ge=1, description="`next_before` of the page before.")
    per_page: int = Field(default=50, ge=1, le=500)


class Account(RequestShape):
    """An email and password that turn the caller's guest account into a full one."""

    email: str
    password: str
    display_name: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="A name to show counselors on sessions shared with it."
    )


class SessionListQuery(QueryShape):
    page: int = Field(default=1, ge=1, le=999_999)
    per_page: int = Field(default=20, ge=1, le=MAX_PER_PAGE)


class SessionShowQuery(QueryShape):
    """Which of the session's messages to show: the newest `limit`, or the newest
    `limit` before a message (to read further back, a page at a time)."""

    limit: int = Field(
        default=MESSAGES_SHOWN, ge=1, le=MAX_MESSAGES_SHOWN, description="Messages to show."
    )
    before: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="Only messages older than this one: the `id` of the first message "
        "shown, when `has_earlier` is true.",
    )


# Responses

# The plan's shapes live with the plans (`coach.plans.schema`), where generation
# validates against them; the API answers with them as they are.
PLAN_RESPONSES = (Plan, PlanVersions, Checkin)


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


class ErrorDetail(ResponseShape):
    code: str = Field(description="Stable and machine-readable, e.g. `reply_in_progress`.")
    message: str = Field(description="For people.")


class Error(ResponseShape):
    """What went wrong."""

    error: ErrorDetail
    user_message: Message | MISSING = Field(
        default=MISSING,
        description="When posting a message: the seeker's message, if it was stored "
        "before the reply failed (send it again only when this is absent).",
    )


class Health(ResponseShape):
    """Whether the database answers, and which provider is in use."""

    status: Literal["ok", "degraded"]
    db: Literal["ok", "unavailable"]
    provider: Annotated[str, OneOf(tuple(PROVIDERS))]


class Liveness(ResponseShape):
    """The process answers."""

    status: Literal["ok"]


class ReadinessReport(ResponseShape):
    """Whether this instance can serve now, and each check: `ok`, `failed`, or
    `not_configured` (Redis without COACH_REDIS_URL)."""

    status: Literal["ready", "degraded", "not_ready"]
    checks: dict[str, Literal["ok", "failed", "not_configured"]]


class OpenApiDocument(BaseModel):
    """This description of the API, as OpenAPI 3.1."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


# The events of a reply streamed as Server-Sent Events, by event name.


class MessageEvent(ResponseShape):
    """`event: message`: the seeker's message, stored before the reply begins."""

    message: Message


class DeltaEvent(ResponseShape):
    """`event: delta`: the next piece of the reply's text."""

    text: str


class DoneEvent(ResponseShape):
    """`event: done`: the reply, stored complete."""

    reply: Message


class ErrorEvent(ResponseShape):
    """`event: error`: the reply failed or broke off; what it wrote is stored."""

    error: ErrorDetail
    retryable: bool = Field(description="Whether `POST .../retry` may answer the message again.")
    reply: Message | None = Field(description="The partial or failed reply, if one was stored.")


REPLY_EVENTS: dict[str, type[ResponseShape]] = {
    "message": MessageEvent,
    "delta": DeltaEvent,
    "done": DoneEvent,
    "error": ErrorEvent,
}


# Privacy


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
    exported_at: Timestamp


class NoteList(ResponseShape):
    """The counselors' notes on the caller's session that are marked for them."""

    items: list[Note]


class ReferralDay(ResponseShape):
    day: str = Field(description="An ISO date (UTC).")
    crisis: int = Field(description="Crisis replies given that day.")


class Referrals(ResponseShape):
    """Crisis referrals counted by day: numbers only, no one's data."""

    days: list[ReferralDay]
