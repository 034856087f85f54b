"""The plan templates in `prompts/plan.toml`, validated and loaded once per app.

They say how a guided plan reads (headline, reasons, routine, support,
resources per strategy) and hold the disclaimer every plan carries. Which goals a
plan has comes from the cause-to-strategy map in `coach.guide.frameworks`.
"""

from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path

from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, model_validator

from coach.guide.frameworks import GOAL_CATEGORIES, Frameworks, frameworks
from coach.plans.schema import HORIZONS, ResourceDraft

EXTENSION_KEY = "coach.plans.templates"
# The category of a goal of the seeker's whose words name none (`OwnGoal.category_of`).
OWN_GOAL_FALLBACK = "mindset"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Headline(_Strict):
    with_cause: str
    without_cause: str


class Reasons(_Strict):
    own_goal: str
    evidence: str
    feedback: str
    cause_only: str
    # No cause found: nothing "we found together" to point to.
    no_cause: str
    wellbeing: str


class GoalOpenings(_Strict):
    phrases: tuple[str, ...]


class OwnGoal(_Strict):
    # Steps for a goal the seeker stated that no strategy is about.
    steps: tuple[str, ...]
    # Its category by the words or phrases it holds, whole: the first that fits, in
    # this order; `OWN_GOAL_FALLBACK` when none does.
    categories: dict[str, tuple[str, ...]]

    @model_validator(mode="after")
    def _known_categories(self) -> OwnGoal:
        unknown = set(self.categories) - set(GOAL_CATEGORIES)
        if unknown:
            raise ValueError(f"own_goal.categories names unknown categories {sorted(unknown)}")
        return self

    def category_of(self, goal: str) -> str:
        """The category a goal in the seeker's words is plainly about."""
        lowered = goal.lower()
        for category, phrases in self.categories.items():
            if any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", lowered) for p in phrases):
                return category
        return OWN_GOAL_FALLBACK


class RoutineItem(_Strict):
    covers: str
    text: str
    # The goal category a plan needs for this part to fit it ("skills").
    needs: str | None = None


class Routine(_Strict):
    items: tuple[RoutineItem, ...]
    # The words that show the seeker's own routine covers a part already.
    covered_by: dict[str, tuple[str, ...]] = {}


class Support(_Strict):
    suggestion: str
    review: str


class ChatWording(_Strict):
    """How the chat shows a plan asked for there, and the words that pick its horizon."""

    opening: str
    goal_dated: str
    goal_undated: str
    review: str
    link: str
    # Weeks (as the TOML key) to the phrases that choose them.
    horizons: dict[int, tuple[str, ...]]

    @model_validator(mode="after")
    def _known_horizons(self) -> ChatWording:
        unknown = set(self.horizons) - set(HORIZONS)
        if unknown:
            raise ValueError(f"[chat.horizons] {sorted(unknown)} are not plan horizons {HORIZONS}")
        return self


class PlanTemplates(_Strict):
    disclaimer: str
    headline: Headline
    why: Reasons
    goal_openings: GoalOpenings
    own_goal: OwnGoal
    routine: Routine
    support: Support
    resources: dict[str, tuple[ResourceDraft, ...]]
    chat: ChatWording

    @model_validator(mode="after")
    def _known_placeholders(self) -> PlanTemplates:
        allowed = {"horizon_weeks", "cause", "words", "strategy", "advice", "review_on"}
        allowed |= {"title", "step", "due", "link"}
        chat = self.chat.model_dump(exclude={"horizons"}).values()
        texts = [
            *self.headline.model_dump().values(),
            *self.why.model_dump().values(),
            self.support.review,
            *chat,
        ]
        for text in texts:
            named = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            if named - allowed:
                raise ValueError(f"unknown placeholders {sorted(named - allowed)} in {text!r}")
        return self

    def check_against(self, loaded: Frameworks) -> None:
        """Every strategy has resources here, one of its own kind among them, and
        nothing here names an unknown strategy."""
        known = set(loaded.catalogue.strategies)
        if set(self.resources) != known:
            raise ValueError(
                "prompts/plan.toml [resources] must list exactly the strategies of"
                f" strategies.toml; missing {sorted(known - set(self.resources))},"
                f" unknown {sorted(set(self.resources) - known)}"
            )
        for key, strategy in loaded.catalogue.strategies.items():
            if strategy.resource_kind not in {r.kind for r in self.resources[key]}:
                raise ValueError(
                    f"prompts/plan.toml [resources] {key} needs a {strategy.resource_kind}"
                )

    @classmethod
    def load(cls, prompts_dir: Path) -> PlanTemplates:
        return cls.model_validate(tomllib.loads((prompts_dir / "plan.toml").read_text("utf-8")))


def init_app(app: Flask) -> None:
    templates = PlanTemplates.load(Path(app.config["COACH_PROMPTS_DIR"]))
    templates.check_against(frameworks(app))
    app.extensions[EXTENSION_KEY] = templates


def plan_templates(app: Flask | None = None) -> PlanTemplates:
    loaded: PlanTemplates = (app or current_app).extensions[EXTENSION_KEY]
    return loaded
