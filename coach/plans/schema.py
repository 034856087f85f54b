"""The plan's shape, once: what a generator (the templates or a model) must produce,
the rules it must keep, and the plan as the API and the pages show it.

`PlanDraft` is what a generator answers; a model is given its JSON schema.
Validated with a `PlanRules` context, it also checks that every date lies within
the chosen horizon and that the goals' categories follow the cause-to-strategy
map for the causes in the record, so that a model's plan and a guided plan agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetPydanticSchema,
    StringConstraints,
    ValidationInfo,
    model_validator,
)
from pydantic_core import core_schema

from coach.guide.frameworks import CAUSES, GOAL_CATEGORIES, RESOURCE_KINDS
from coach.storage.models import CHECKIN_MOMENTS, JOURNAL_KINDS, PLAN_TEXT_CHARS
from coach.storage.timestamps import Timestamp

HORIZONS = (2, 4, 8)
DEFAULT_HORIZON = 4
MAX_GOALS = 5
MAX_STEPS = 8
MAX_RESOURCES = 5
MAX_LIST_ITEMS = 8
MAX_WHY_CHARS = 1000
MAX_JOURNAL_CHARS = 4000


def one_of(choices: tuple[str, ...]) -> GetPydanticSchema:
    """A string from one of the guide's lists of codes: validated and documented as an enum."""
    return GetPydanticSchema(lambda _source, _handler: core_schema.literal_schema(list(choices)))


Category = Annotated[str, one_of(GOAL_CATEGORIES)]
ResourceKind = Annotated[str, one_of(RESOURCE_KINDS)]
CauseCode = Annotated[str, one_of(CAUSES)]
Moment = Annotated[str, one_of(CHECKIN_MOMENTS)]
JournalKind = Annotated[str, one_of(JOURNAL_KINDS)]
PlanText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=PLAN_TEXT_CHARS)
]
JournalText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_JOURNAL_CHARS)
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_WHY_CHARS)
]


def _https_only(url: str | None) -> str | None:
    # Shown as a link on the plan page: nothing but https.
    if url is not None and not url.startswith("https://"):
        raise ValueError("a resource's url must start with https://")
    return url


Url = Annotated[str | None, AfterValidator(_https_only)]


class Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


# What a generator produces -----------------------------------------------------------


@dataclass(frozen=True)
class PlanRules:
    """What a draft must keep to: its dates within [first_day, review_on], and for each
    cause in the record a goal in one of the categories its strategies have."""

    first_day: date
    review_on: date
    categories_by_cause: dict[str, frozenset[str]]


class StepDraft(Shape):
    title: PlanText
    due: date = Field(description="An ISO date within the plan's horizon.")


class ResourceDraft(Shape):
    kind: ResourceKind
    name: PlanText
    url: Url = None


class GoalDraft(Shape):
    title: PlanText = Field(description="Small and specific; the seeker's own words if given.")
    why: LongText = Field(description="Tied to what the seeker said.")
    category: Category
    steps: list[StepDraft] = Field(min_length=1, max_length=MAX_STEPS)
    resources: list[ResourceDraft] = Field(default=[], max_length=MAX_RESOURCES)


class PlanDraft(Shape):
    """A plan as a generator writes it, before it is stored."""

    headline: LongText
    goals: list[GoalDraft] = Field(min_length=1, max_length=MAX_GOALS)
    routine: list[PlanText] = Field(
        min_length=1,
        max_length=MAX_LIST_ITEMS,
        description="A weekly routine: job search time, skill time, rest, exercise, sleep.",
    )
    support: list[PlanText] = Field(
        default=[], max_length=MAX_LIST_ITEMS, description="Who the seeker can lean on."
    )

    @model_validator(mode="after")
    def _keeps_the_rules(self, info: ValidationInfo) -> PlanDraft:
        rules = info.context.get("rules") if isinstance(info.context, dict) else None
        if not isinstance(rules, PlanRules):
            return self
        for goal in self.goals:
            for step in goal.steps:
                if not rules.first_day <= step.due <= rules.review_on:
                    raise ValueError(
                        f"step {step.title!r} is due {step.due.isoformat()}, outside"
                        f" {rules.first_day.isoformat()} to {rules.review_on.isoformat()}"
                    )
        chosen = {goal.category for goal in self.goals}
        for cause, categories in rules.categories_by_cause.items():
            if not chosen & categories:
                raise ValueError(
                    f"the cause {cause} needs a goal in one of the categories"
                    f" {', '.join(sorted(categories))}"
                )
        return self


def validate_draft(data: Any, rules: PlanRules) -> PlanDraft:
    """`data` (decoded JSON or a dict) as a draft that keeps `rules`, or ValidationError."""
    return PlanDraft.model_validate(data, context={"rules": rules})


# The stored plan, as it is shown ---------------------------------------------------


class LikelyCause(Shape):
    cause: CauseCode
    evidence: str


class Insights(Shape):
    """What the conversation found, from the record the seeker confirmed."""

    emotions: list[str]
    likely_causes: list[LikelyCause]
    strengths: list[str]


class Step(Shape):
    id: int
    title: str
    due: date | None
    done: bool
    done_at: Timestamp | None


class Resource(Shape):
    kind: ResourceKind
    name: str
    url: str | None


class Goal(Shape):
    id: int
    title: str
    why: str
    category: Category
    steps: list[Step]
    resources: list[Resource]


class NextStep(Shape):
    id: int
    title: str
    due: date | None


class Progress(Shape):
    """Steps done of all steps, and the next one not done (earliest due first)."""

    done: int
    total: int
    next_step: NextStep | None


class JournalEntry(Shape):
    id: int
    kind: JournalKind = Field(description="`learned` or `went_well`.")
    body: str
    created_at: Timestamp


class Plan(Shape):
    """A session's action plan, one version of it."""

    id: int
    session_id: int
    version: int
    created_at: Timestamp
    headline: str
    horizon_weeks: int
    insights: Insights
    goals: list[Goal]
    routine: list[str]
    support: list[str]
    review_on: date
    disclaimer: str = Field(description="No guarantees, and not therapy: shown with every plan.")
    model: str = Field(description='The model that wrote it; "guided" for the templates.')
    progress: Progress
    journal: list[JournalEntry]


class PlanVersion(Shape):
    """One version of a session's plan, without its goals."""

    id: int
    version: int
    created_at: Timestamp
    horizon_weeks: int
    model: str
    progress: Progress


class PlanVersions(Shape):
    """The versions of a session's plan, newest first."""

    items: list[PlanVersion]


class Checkin(Shape):
    """How the seeker felt (1 to 5) at the start or end of a session."""

    id: int
    session_id: int
    moment: Moment
    score: int = Field(ge=1, le=5)
    created_at: Timestamp
