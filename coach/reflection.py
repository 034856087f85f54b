"""The reflection record: what a session has learned about the seeker so far.

It is stored as JSON on the coaching session, validated by `ReflectionRecord`,
kept small (bounded lists of bounded strings) so that it can go into every
prompt, and filled by plain keyword rules over the seeker's own words. The
`openai` provider may add to it with structured output; both meet in `merge`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path

from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, Field, field_validator

from coach.frameworks import Cause, Frameworks, frameworks

MAX_ITEMS = 8
MAX_ITEM_CHARS = 240
MAX_FEELING_WORDS = 3
# Words that end a named feeling: "I feel crushed and angry" names "crushed".
FEELING_STOPWORDS = frozenset(
    [
        "and",
        "but",
        "because",
        "about",
        "that",
        "since",
        "so",
        "when",
        "like",
        "as",
        "if",
        "it",
        "the",
        "a",
        "an",
        "to",
        "of",
    ]
)
# Record fields filled with the whole sentence in which one of their phrases occurs.
SENTENCE_SIGNALS = ("feedback", "strengths", "goals", "routine", "support")


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

    @field_validator("emotions", "feedback", "strengths", "goals", "routine", "support")
    @classmethod
    def _bounded(cls, values: list[str]) -> list[str]:
        return _dedupe([_clip(v) for v in values if v.strip()])[-MAX_ITEMS:]

    @field_validator("likely_causes")
    @classmethod
    def _bounded_causes(cls, values: list[LikelyCause]) -> list[LikelyCause]:
        seen: dict[tuple[str, str], LikelyCause] = {}
        for value in values:
            seen.setdefault((value.cause, value.evidence.lower()), value)
        return list(seen.values())[-MAX_ITEMS:]

    def merge(self, other: ReflectionRecord) -> ReflectionRecord:
        """Everything either record knows, still within the bounds."""
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
        return self == ReflectionRecord()


def _dedupe(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.lower(), value)
    return list(seen.values())


def _phrase_pattern(phrases: tuple[str, ...] | list[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    alternatives = "|".join(re.escape(p.lower()) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![a-z])(?:{alternatives})")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


@dataclass(frozen=True)
class KeywordRules:
    """The guided rules, compiled once from the frameworks and `prompts/signals.toml`."""

    emotions: dict[str, re.Pattern[str]]
    causes: dict[str, re.Pattern[str]]
    signals: dict[str, re.Pattern[str]]

    @classmethod
    def compile(cls, frameworks: Frameworks, prompts_dir: Path) -> KeywordRules:
        signals = tomllib.loads((prompts_dir / "signals.toml").read_text("utf-8"))
        reactions = frameworks.stage("emotions").section("reactions").items
        causes = frameworks.stage("causes").section("causes").items
        return cls(
            emotions={
                item.name.lower(): p for item in reactions if (p := _phrase_pattern(item.keywords))
            },
            causes={str(item.key): p for item in causes if (p := _phrase_pattern(item.keywords))},
            signals={
                name: p
                for name, entry in signals.items()
                if (p := _phrase_pattern(entry["phrases"]))
            },
        )

    def read(self, text: str) -> ReflectionRecord:
        """What one seeker message adds to the record, in the seeker's own words."""
        sentences = split_sentences(text)
        lowered = [s.lower() for s in sentences]
        pairs = list(zip(sentences, lowered, strict=True))
        found = {
            field: [s for s, low in pairs if self.signals[field].search(low)]
            for field in SENTENCE_SIGNALS
        }
        return ReflectionRecord.model_validate(
            {
                "emotions": [n for n, p in self.emotions.items() if p.search(text.lower())]
                + self._named_feelings(lowered),
                "likely_causes": [
                    {"cause": cause, "evidence": s}
                    for cause, p in self.causes.items()
                    for s, low in pairs
                    if p.search(low)
                ],
                "cause_unknown": bool(self.signals["cause_unknown"].search(text.lower())),
                **found,
            }
        )

    def _named_feelings(self, sentences: list[str]) -> list[str]:
        feelings = []
        for sentence in sentences:
            match = self.signals["feeling_openers"].search(sentence)
            if match:
                words = re.findall(r"[a-z'-]+", sentence[match.end() :])
                named = list(takewhile(lambda w: w not in FEELING_STOPWORDS, words))
                if named:
                    feelings.append(" ".join(named[:MAX_FEELING_WORDS]))
        return feelings


EXTENSION_KEY = "coach.keyword_rules"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = KeywordRules.compile(
        frameworks(app), Path(app.config["COACH_PROMPTS_DIR"])
    )


def keyword_rules(app: Flask | None = None) -> KeywordRules:
    rules: KeywordRules = (app or current_app).extensions[EXTENSION_KEY]
    return rules
