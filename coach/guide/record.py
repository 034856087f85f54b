"""The reflection record: what a session has learned about the seeker so far.

It is stored as JSON on the coaching session, validated by `ReflectionRecord`,
and kept small (bounded lists of bounded strings) so that it can go into every
prompt. The keyword rules (`coach.coaching.keyword_rules`) and a model's
structured output both fill it; they meet in `merge`.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from coach.guide.frameworks import Cause

# What a cause chosen by its label is recorded with when no sentence of the
# seeker's gave it: the seeker's choice is the evidence.
CHOSEN_EVIDENCE = "Chosen by the seeker"
# The strategy of asking the employer for feedback (prompts/strategies.toml).
FEEDBACK_STRATEGY = "feedback_request"

MAX_ITEMS = 8
# The record's lists of the seeker's own words, by field name.
RECORD_LISTS = ("emotions", "feedback", "strengths", "goals", "routine", "support")
MAX_ITEM_CHARS = 240


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ITEM_CHARS else text[: MAX_ITEM_CHARS - 1] + "…"


class LikelyCause(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cause: Cause
    evidence: str = Field(min_length=1)

    @field_validator("evidence")
    @classmethod
    def _clip_evidence(cls, value: str) -> str:
        return _clip(value)


class ReflectionRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    emotions: list[str] = []
    likely_causes: list[LikelyCause] = []
    cause_unknown: bool = False
    feedback: list[str] = []
    strengths: list[str] = []
    goals: list[str] = []
    routine: list[str] = []
    support: list[str] = []

    @field_validator(*RECORD_LISTS)
    @classmethod
    def _bounded(cls, values: list[str]) -> list[str]:
        # The earliest facts stay: the role, the process and the feedback come first.
        return _dedupe([_clip(v) for v in values if v.strip()])[:MAX_ITEMS]

    @field_validator("likely_causes")
    @classmethod
    def _bounded_causes(cls, values: list[LikelyCause]) -> list[LikelyCause]:
        seen: dict[tuple[str, str], LikelyCause] = {}
        for value in values:
            seen.setdefault((value.cause, value.evidence.lower()), value)
        return list(seen.values())[:MAX_ITEMS]

    def merge(self, other: ReflectionRecord) -> ReflectionRecord:
        """Everything either record knows, still within the bounds (this one's first)."""
        return ReflectionRecord(
            emotions=self.emotions + other.emotions,
            likely_causes=self.likely_causes + other.likely_causes,
            cause_unknown=self.cause_unknown or other.cause_unknown,
            feedback=self.feedback + other.feedback,
            strengths=self.strengths + other.strengths,
            goals=self.goals + other.goals,
            routine=self.routine + other.routine,
            support=self.support + other.support,
        )

    def is_empty(self) -> bool:
        # Every field is empty by default (a list, or False): no new record to compare.
        return not any(getattr(self, name) for name in type(self).model_fields)

    def holds(self, name: str) -> bool:
        """Whether the record holds anything under `name`: a list field ("support"), a
        cause code ("competition"), or "unknown" for a reason not made clear."""
        if name in RECORD_LISTS:
            return bool(getattr(self, name))
        if name == "unknown":
            return self.cause_unknown
        return any(c.cause == name for c in self.likely_causes)

    def strategies_in_hand(self) -> frozenset[str]:
        """Strategies the record shows are done already: asking the employer for
        feedback, once their feedback is in it."""
        return frozenset({FEEDBACK_STRATEGY}) if self.feedback else frozenset()

    @property
    def cause_worked_on(self) -> str:
        """The cause whose strategies the improvement stage and the plan's resources
        offer: the one confirmed last, or "unknown" when none was."""
        return self.likely_causes[-1].cause if self.likely_causes else "unknown"


def _dedupe(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.lower(), value)
    return list(seen.values())


def plain_markdown(text: str) -> str:
    """Words of a seeker's (or a model's: untrusted) on one line, with the characters
    Markdown and HTML act on made plain: for a reply or an export that shows them."""
    flat = " ".join(text.split())
    for special in ("\\", "`", "*", "_", "[", "]", "<", ">", "#", "|"):
        flat = flat.replace(special, "\\" + special)
    return flat


def split_sentences(text: str) -> list[str]:
    """The sentences of a message: the unit in which the record keeps evidence."""
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]
