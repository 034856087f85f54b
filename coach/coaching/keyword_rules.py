"""The guided keyword rules: what one seeker message adds to the reflection record,
read with plain phrase patterns from the frameworks and `prompts/signals.toml`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path

from flask import Flask, current_app

from coach.guide.frameworks import Frameworks, frameworks
from coach.guide.record import ReflectionRecord, split_sentences

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


def _phrase_pattern(phrases: tuple[str, ...] | list[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    alternatives = "|".join(re.escape(p.lower()) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![a-z])(?:{alternatives})")


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
