"""The shapes counselor review answers with: the dashboard's page of sessions, the
transcript with its notes, flags and quality panel, notes, and the audit log.

Built here, where they are filled in; the API and the pages show them as they are,
and the OpenAPI document is generated from them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.experimental.missing_sentinel import MISSING

from coach.guide.frameworks import STAGES
from coach.guide.record import ReflectionRecord
from coach.plans.schema import Checkin, Plan, one_of
from coach.storage.models import AUDIT_ACTIONS, MAX_ID, MESSAGE_ROLES, MESSAGE_STATUSES
from coach.storage.timestamps import Timestamp

MAX_NOTE_CHARS = 4000
MAX_SEARCH_CHARS = 200
MAX_DASHBOARD_PAGE = 100

StageCode = Annotated[str, one_of(STAGES)]
NoteText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NOTE_CHARS)
]
# The support strategies of the ESConv study (Liu et al., 2021), as codes.
STRATEGIES = (
    "question",
    "restatement",
    "reflection_of_feelings",
    "self_disclosure",
    "affirmation",
    "suggestion",
    "information",
    "other",
)
Strategy = Annotated[str, one_of(STRATEGIES)]
# A reflection in Motivational Interviewing: simple says back what was said, complex
# adds a feeling or meaning the seeker did not put in those words.
Reflection = Literal["simple", "complex"]


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Seeker(Shape):
    """Who shared the session: their name only if they chose to show it."""

    label: str = Field(description="A stable pseudonym, or the name the seeker chose to show.")
    named: bool = Field(description="Whether `label` is the seeker's own name.")


class SessionSummary(Shape):
    """One shared session on the counselors' dashboard."""

    id: int
    seeker: Seeker
    title: str
    stage: StageCode
    flags: list[str]
    created_at: Timestamp
    last_activity_at: Timestamp


class SessionList(Shape):
    """Shared sessions, latest activity first, one page of them."""

    items: list[SessionSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class Note(Shape):
    """A counselor's note on a session or on one of its messages."""

    id: int
    session_id: int
    message_id: int | None
    body: str
    visible_to_seeker: bool
    author: str = Field(description="The counselor's email, or `a counselor` if gone.")
    created_at: Timestamp
    edited_at: Timestamp | None = Field(
        default=None, description="When its author last changed it; null if never."
    )


class StrategyLabel(Shape):
    """The support strategy of one coach reply, and who labelled it."""

    strategy: Strategy
    source: Literal["model", "rules"] = Field(
        description="`model`: a model's structured answer; `rules`: the transparent rules."
    )
    reflection: Reflection | None = Field(
        default=None, description="Whether the reply reflects, and how (MI terms)."
    )
    reason: str = Field(
        description="The rule that decided, or the model that labelled, for the reader to check."
    )


class TranscriptMessage(Shape):
    id: int
    role: Annotated[str, one_of(MESSAGE_ROLES)]
    content: str
    content_html: str = Field(
        description="The message as the seeker's page shows it: Markdown rendered and "
        "sanitised when it was stored."
    )
    stage: StageCode
    status: Annotated[str, one_of(MESSAGE_STATUSES)]
    created_at: Timestamp
    safety: str | None = Field(description="On a reply the safety rules wrote: which rule.")
    raised_flag: str | None = Field(
        description="On a seeker message that raised a safety flag: the flag (`crisis`)."
    )
    strategy: StrategyLabel | None = Field(description="On a coach reply: its support strategy.")
    notes: list[Note]


class StageSegment(Shape):
    """The messages written while the conversation was in one stage, in order."""

    stage: StageCode
    title: str
    messages: list[TranscriptMessage]


class Ratio(Shape):
    value: float | None = Field(description="Null when there is nothing to divide by.")
    rating: Literal["good", "fair", "low", "n/a"]


class Quality(Shape):
    """The conversation quality panel: strategies counted, and the Motivational
    Interviewing ratios supervisors use (reflections to questions: fair at 1, good
    at 2; complex reflections among reflections: fair at 40 %, good at 50 %).
    Labelled by the model with structured output when one is configured (once per
    reply, then stored), by the transparent rules otherwise or where the model's
    label did not fit; each reply's label and `source` here say which."""

    source: Literal["model", "rules", "mixed"] = Field(
        description="Who labelled the replies the ratios count: all by a model, all by "
        "the rules, or some each (`mixed`)."
    )
    source_detail: str = Field(description="Why, in a sentence: no model, a model error, ...")
    strategies: dict[str, int]
    reflections_to_questions: Ratio
    complex_reflections: Ratio


class Transcript(Shape):
    """A shared session as a counselor reads it."""

    id: int
    seeker: Seeker
    title: str
    stage: StageCode
    flags: list[str]
    careful: bool
    created_at: Timestamp
    last_activity_at: Timestamp
    segments: list[StageSegment]
    reflection: ReflectionRecord
    checkins: list[Checkin] = Field(description="The mood check-ins, before and after.")
    plan: Plan | None = Field(description="The latest plan, with its progress.")
    notes: list[Note] = Field(description="Notes on the session as a whole.")
    quality: Quality


class NoteCreate(Shape):
    """A note on the session, or on one of its messages."""

    model_config = ConfigDict(extra="forbid", strict=True)
    body: NoteText
    message_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="A message of this session."
    )
    visible_to_seeker: bool = Field(
        default=False, description="Shown beside the seeker's plan when true."
    )


class NoteChange(Shape):
    """A new text for a note, or whether the seeker sees it; at least one."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"minProperties": 1})
    body: NoteText | MISSING = MISSING
    visible_to_seeker: bool | MISSING = Field(
        default=MISSING, description="Shown beside the seeker's plan when true."
    )


class DashboardFilters(BaseModel):
    """The dashboard's filters, from the query string."""

    flagged: bool | None = Field(default=None, description="Only flagged (or unflagged) ones.")
    stage: StageCode | None = None
    since: date | None = Field(default=None, description="Active on or after this date.")
    until: date | None = Field(default=None, description="Active on or before this date.")
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_SEARCH_CHARS)] = (
        Field(default="", description="Words to find in the transcripts.")
    )
    cursor: str | None = Field(default=None, description="`next_cursor` of the page before.")
    per_page: int = Field(default=20, ge=1, le=MAX_DASHBOARD_PAGE)


class AuditLine(Shape):
    id: int
    created_at: Timestamp
    actor_id: int | None
    actor_role: str
    actor_email: str | None = Field(
        description="A counselor's or admin's email (seekers stay pseudonymous); none "
        "once the account is deleted."
    )
    action: Annotated[str, one_of(AUDIT_ACTIONS)]
    session_id: int | None
    detail: str


class AuditPage(Shape):
    """The audit log, newest first, one page of it."""

    items: list[AuditLine]
    next_before: int | None = Field(description="Pass as `before` for older lines.")
