"""The guide's frameworks, kept as data under `prompts/` and loaded once per app.

This is the one place that knows the stages, their order, the cause codes and
the cause-to-strategy map. The prompts, the guided provider, the UI and the
evals all read it from here.
"""

from __future__ import annotations

import tomllib
from functools import cached_property
from pathlib import Path
from typing import Literal, TypeVar

from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

STAGES = ("emotions", "causes", "improvement", "resilience", "plan")
Stage = Literal["emotions", "causes", "improvement", "resilience", "plan"]
CAUSES = (
    "skills_gap",
    "culture_fit",
    "preparation",
    "qualification_mismatch",
    "competition",
    "unknown",
)
Cause = Literal[
    "skills_gap", "culture_fit", "preparation", "qualification_mismatch", "competition", "unknown"
]
GOAL_CATEGORIES = (
    "skills",
    "applications",
    "interview_practice",
    "networking",
    "wellbeing",
    "mindset",
)
RESOURCE_KINDS = ("course", "workshop", "certification", "community", "mentor", "reading", "other")

EXTENSION_KEY = "coach.guide.frameworks"


Keyed = TypeVar("Keyed", "Item", "Section")


def _find(entries: tuple[Keyed, ...], key: str, where: str) -> Keyed:
    for entry in entries:
        if entry.key == key:
            return entry
    raise KeyError(f"{where} has no entry {key!r}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Item(Strict):
    name: str
    text: str
    key: str | None = None
    keywords: tuple[str, ...] = ()
    contrast: str | None = None
    # A reaction's usual object ("about how it turned out"), for a reflection that
    # names the feeling and what it is about.
    about: str | None = None
    # Other names a seeker may call a cause by ("skills gap").
    aliases: tuple[str, ...] = ()


class Section(Strict):
    key: str
    heading: str
    items: tuple[Item, ...]

    def item(self, key: str) -> Item:
        return _find(self.items, key, f"section {self.key}")


class Question(Strict):
    """One of a stage's questions. `answered_by` names what makes it one the seeker
    has answered already, so that guided mode does not ask it: a part of the record
    (a field such as "support", or a cause code) or a topic of `[answered]` in
    `prompts/dialogue.toml` that one of their messages touched."""

    text: str
    answered_by: tuple[str, ...] = ()
    # It asks for one of the stage's options (a feeling): they go with it as quick
    # replies, so that a seeker short of words can pick one.
    offers_choices: bool = False


class Framework(Strict):
    stage: Stage
    title: str
    position: int
    summary: str
    coach_focus: str
    leaves_when: str
    opening: str
    questions: tuple[Question, ...]
    jump_phrases: tuple[str, ...]
    sections: tuple[Section, ...]

    @field_validator("questions", mode="before")
    @classmethod
    def _plain_questions(cls, questions: list[object]) -> list[object]:
        # Most questions are a plain string in the file: one answered by nothing.
        return [{"text": q} if isinstance(q, str) else q for q in questions]

    def section(self, key: str) -> Section:
        return _find(self.sections, key, f"framework {self.stage}")

    def question(self, index: int) -> Question:
        """The stage's question at `index`, counting round again past the last."""
        return self.questions[index % len(self.questions)]


class Strategy(Strict):
    name: str
    category: str
    resource_kind: str
    how: str
    outcome: str
    steps: tuple[str, ...]
    # Words by which a reply names this strategy (the eval suite's grounding check).
    mentions: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _known_codes(self) -> Strategy:
        if self.category not in GOAL_CATEGORIES:
            raise ValueError(f"unknown goal category {self.category!r}")
        if self.resource_kind not in RESOURCE_KINDS:
            raise ValueError(f"unknown resource kind {self.resource_kind!r}")
        return self


class CauseResponse(Strict):
    strategies: tuple[str, ...]
    advice: str


class StrategyCatalogue(Strict):
    strategies: dict[str, Strategy]
    causes: dict[str, CauseResponse]

    @model_validator(mode="after")
    def _complete_and_consistent(self) -> StrategyCatalogue:
        missing = set(CAUSES) - set(self.causes)
        if missing:
            raise ValueError(f"causes without strategies: {sorted(missing)}")
        for cause, response in self.causes.items():
            unknown = set(response.strategies) - set(self.strategies)
            if unknown:
                raise ValueError(f"cause {cause} names unknown strategies {sorted(unknown)}")
        return self


class Frameworks:
    """All stages' frameworks plus the strategy catalogue, validated on load."""

    def __init__(self, by_stage: dict[str, Framework], catalogue: StrategyCatalogue) -> None:
        missing = set(STAGES) - set(by_stage)
        if missing:
            raise ValueError(f"no framework file for stages {sorted(missing)}")
        self.by_stage = by_stage
        self.catalogue = catalogue
        causes = self.stage("causes").section("causes")
        for cause in CAUSES[:-1]:  # "unknown" has no signs of its own
            causes.item(cause)

    @classmethod
    def load(cls, prompts_dir: Path) -> Frameworks:
        by_stage: dict[str, Framework] = {}
        for path in sorted((prompts_dir / "frameworks").glob("*.toml")):
            framework = Framework.model_validate(tomllib.loads(path.read_text("utf-8")))
            by_stage[framework.stage] = framework
        catalogue = StrategyCatalogue.model_validate(
            tomllib.loads((prompts_dir / "strategies.toml").read_text("utf-8"))
        )
        return cls(by_stage, catalogue)

    def stage(self, stage: str) -> Framework:
        return self.by_stage[stage]

    @cached_property
    def ordered(self) -> list[Framework]:
        return [self.by_stage[stage] for stage in STAGES]

    def cause_label(self, cause: str) -> str:
        if cause == "unknown":
            return "Not known yet"
        return self.stage("causes").section("causes").item(cause).name

    def strategies_for(self, cause: str) -> list[Strategy]:
        return [self.catalogue.strategies[key] for key in self.catalogue.causes[cause].strategies]


def next_stage(stage: str) -> str:
    position = STAGES.index(stage)
    return STAGES[min(position + 1, len(STAGES) - 1)]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = Frameworks.load(Path(app.config["COACH_PROMPTS_DIR"]))


def frameworks(app: Flask | None = None) -> Frameworks:
    loaded: Frameworks = (app or current_app).extensions[EXTENSION_KEY]
    return loaded
