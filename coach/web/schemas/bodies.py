"""The JSON bodies the API takes: each a `RequestShape`, checked strictly by
`coach.web.api.requests` before a view sees it.

The plans' text fields and dates have their own checks here (not blank, ISO dates
only as strings), because what the seeker types into a plan arrives only this way.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field
from pydantic.experimental.missing_sentinel import MISSING

from coach.coaching.record_corrections import LIST_FIELDS
from coach.counsel.schema import NoteChange, NoteCreate
from coach.guide.record import MAX_ITEM_CHARS
from coach.plans.schema import MAX_JOURNAL_CHARS, JournalKind, Moment
from coach.storage.models import PLAN_TEXT_CHARS
from coach.web.schemas.base import OneOf, RequestShape, Stage, Title


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


class NoteBody(NoteCreate, RequestShape):
    """A counselor's note: on the session, or on one of its messages."""


class NoteChangeBody(NoteChange, RequestShape):
    """A note's new text, or whether the seeker sees it; at least one."""


class Account(RequestShape):
    """An email and password that turn the caller's guest account into a full one."""

    email: str
    password: str
    display_name: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="A name to show counselors on sessions shared with it."
    )
