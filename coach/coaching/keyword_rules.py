"""The guided keyword rules: what one seeker message *proposes* for the reflection
record, read with phrase patterns from the frameworks and `prompts/signals.toml`.

The result is a proposal that the coach checks with the seeker before keeping
it, so the rules would rather miss an entry than propose a wrong one: a wrong
cause steers the strategies that follow. Three habits come from that:

- only statements count: greetings, questions and instructions to the coach and
  one-word fragments propose nothing as content (`phrase_reading`);
- negation, contrast and other senses of a word are read clause by clause
  (`phrase_reading.PhraseRule`);
- what the employer said outranks the seeker's guesses: a sentence that reports
  feedback goes into `feedback`, the cause it names is proposed first, and
  when it names one, "another candidate" in the same message is not proposed
  as strong competition.

Every entry's text is a sentence the seeker wrote, checked before it is returned.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict

from coach.coaching.phrase_reading import (
    Negation,
    PhraseData,
    PhraseRule,
    ReadingData,
    Sentence,
    SentenceReader,
    compile_patterns,
)
from coach.errors import ConfigurationError
from coach.guide.frameworks import Frameworks, frameworks
from coach.guide.record import ReflectionRecord, split_sentences
from coach.safety.normalise import normalise

SIGNALS_FILE = "signals.toml"
# Record fields filled with the whole sentence in which one of their phrases occurs.
SENTENCE_FIELDS = ("feedback", "strengths", "goals", "routine", "support")
# Fields read over the whole sentence, not clause by clause: the person and what
# they do are often in different clauses ("My uncle is in shipping, he said he'd
# introduce me").
WHOLE_SENTENCE_FIELDS = frozenset({"support"})
# A routine and a person joined in one sentence ("I go to the gym and vent to my
# friend Sam"): where each half says one of them, each gets its own half. Only
# these two: a goal's verb carries across "and" ("I want to rewrite my stories and
# do two mock interviews"), and the employer's feedback is their words, kept whole.
SPLIT_FIELDS = frozenset({"routine", "support"})
JOINED = re.compile(r",?\s+(?:and|but|while|plus)\s+", re.IGNORECASE)
# The cause that employer feedback naming another cause outranks.
GUESSED_CAUSE = "competition"


class FeelingData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    openers: tuple[str, ...]
    lead_words: tuple[str, ...]
    not_feelings: tuple[str, ...]
    max_words: int
    states: tuple[str, ...]


class SignalData(BaseModel):
    """`prompts/signals.toml`, checked when the app starts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    words: dict[str, str]
    reading: ReadingData
    emotions: dict[str, PhraseData]
    causes: dict[str, PhraseData]
    fields: dict[str, PhraseData]
    feelings: FeelingData


@dataclass(frozen=True)
class FeelingWords:
    """Finds the feeling a seeker names in their own words ("I feel numb")."""

    openers: re.Pattern[str]
    states: PhraseRule
    # The feeling words a state names ("[words] feeling_state"), longest first.
    state_words: tuple[str, ...]
    lead_words: frozenset[str]
    not_feelings: frozenset[str]
    max_words: int

    def state_in(self, clause: str) -> str | None:
        """The feeling a state names ("I'm so burnt out": "burnt out"), if it names one."""
        found = self.states.first_match(clause)
        if not found:
            return None
        said = found.group()
        return next((w for w in self.state_words if said.endswith(w)), said.split()[-1])

    def named_in(self, clause: str) -> str | None:
        state = self.state_in(clause)
        if state:
            return state
        match = self.openers.search(clause)
        if not match:
            return None
        words = clause[match.end() :].split()
        while words and words[0] in self.lead_words:
            words.pop(0)
        named: list[str] = []
        for word in words[: self.max_words]:
            if word in self.not_feelings:
                break
            named.append(word)
        return " ".join(named) or None


@dataclass(frozen=True)
class KeywordRules:
    """The guided rules, compiled once from the frameworks and `prompts/signals.toml`."""

    reader: SentenceReader
    emotions: dict[str, PhraseRule]
    causes: dict[str, PhraseRule]
    fields: dict[str, PhraseRule]
    feelings: FeelingWords
    # A cause's label sent as the message is a quick reply the seeker picked; the
    # confirmation reads it, and it is no evidence of its own.
    cause_labels: frozenset[str]

    @classmethod
    def compile(cls, frameworks: Frameworks, prompts_dir: Path) -> KeywordRules:
        path = prompts_dir / SIGNALS_FILE
        try:
            return cls._compile(
                frameworks, SignalData.model_validate(tomllib.loads(path.read_text("utf-8")))
            )
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"the guided rules in {path} are not valid: {exc}") from exc

    @classmethod
    def _compile(cls, frameworks: Frameworks, data: SignalData) -> KeywordRules:
        words = data.words
        negation = Negation(data.reading, words)

        def rule(phrases: tuple[str, ...], extra: PhraseData | None) -> PhraseRule:
            extra = extra or PhraseData()
            merged = extra.model_copy(update={"phrases": phrases + extra.phrases})
            return PhraseRule(merged, words, negation)

        reactions = frameworks.stage("emotions").section("reactions").items
        causes = frameworks.stage("causes").section("causes").items
        missing = {*SENTENCE_FIELDS, "cause_unknown"} - set(data.fields)
        if missing:
            raise ValueError(f"no phrases for {sorted(missing)}")
        return cls(
            reader=SentenceReader(data.reading, words),
            emotions={
                item.name.lower(): rule(item.keywords, data.emotions.get(str(item.key)))
                for item in reactions
            },
            causes={
                str(item.key): rule(item.keywords, data.causes.get(str(item.key)))
                for item in causes
            },
            fields={
                name: PhraseRule(entry, words, negation) for name, entry in data.fields.items()
            },
            feelings=FeelingWords(
                openers=compile_patterns(data.feelings.openers, words),
                states=PhraseRule(PhraseData(phrases=data.feelings.states), words, negation),
                state_words=tuple(sorted(words["feeling_state"].split("|"), key=len, reverse=True)),
                lead_words=frozenset(data.feelings.lead_words),
                not_feelings=frozenset(data.feelings.not_feelings),
                max_words=data.feelings.max_words,
            ),
            cause_labels=frozenset(normalise(frameworks.cause_label(str(i.key))) for i in causes),
        )

    def read(self, text: str) -> ReflectionRecord:
        """What one seeker message proposes for the record, in the seeker's own words."""
        sentences = [self.reader.sentence(s) for s in split_sentences(text)]
        statements = [s for s in sentences if not self.reader.speaks_to_coach(s)]
        proposal: dict[str, Any] = {field: [] for field in SENTENCE_FIELDS}
        proposal["emotions"] = []
        reported_causes: list[dict[str, str]] = []
        guessed_causes: list[dict[str, str]] = []
        for sentence in statements:
            proposal["emotions"] += self._feelings_in(sentence)
            if self._says("cause_unknown", sentence):
                proposal["cause_unknown"] = True
            if (
                self.reader.is_fragment(sentence)
                or sentence.question
                or sentence.normal in self.cause_labels
            ):
                continue
            found = {field for field in SENTENCE_FIELDS if self._says(field, sentence)}
            # What a friend or relative said is support, not the employer's feedback.
            if "support" in found:
                found.discard("feedback")
            # A goal that names a person ("practise interviews with a friend") is a
            # goal: as support too, the plan would list the goal among the people.
            if "goals" in found:
                found.discard("support")
            reported = "feedback" in found
            halves = self._halves(sentence, found)
            for field in SENTENCE_FIELDS:
                if field in found:
                    proposal[field].append(halves.get(field, sentence.original))
            causes = reported_causes if reported else guessed_causes
            causes += [
                {"cause": cause, "evidence": sentence.original}
                for cause in self._causes_in(sentence, reported=reported)
            ]
        causes = reported_causes + guessed_causes
        if any(c["cause"] != GUESSED_CAUSE for c in reported_causes):
            causes = [c for c in causes if c["cause"] != GUESSED_CAUSE]
        proposal["likely_causes"] = causes
        return ReflectionRecord.model_validate(_written_by_seeker(proposal, text))

    def _halves(self, sentence: Sentence, found: set[str]) -> dict[str, str]:
        """For a sentence that says a routine and a person, the half that says each,
        when it splits into two halves that say one each (`SPLIT_FIELDS`)."""
        if found != SPLIT_FIELDS:
            return {}
        original = sentence.original
        # Any of its joins may be the one between the two ("I walk the dog and cook,
        # and my brother is good to talk to"): the last where each half says one.
        for join in reversed(list(JOINED.finditer(original))):
            parts = (original[: join.start()], original[join.end() :])
            said = [
                {field for field in found if self._says(field, self.reader.sentence(part))}
                for part in parts
            ]
            if len(said[0]) == 1 and len(said[1]) == 1 and said[0] != said[1]:
                return {
                    next(iter(fields)): part.strip()
                    for fields, part in zip(said, parts, strict=True)
                }
        return {}

    def _says(self, field: str, sentence: Sentence) -> bool:
        parts = (sentence.normal,) if field in WHOLE_SENTENCE_FIELDS else sentence.clauses
        return any(self.fields[field].says(part) for part in parts)

    def _causes_in(self, sentence: Sentence, *, reported: bool) -> list[str]:
        strengths = self.fields["strengths"]
        return [
            cause
            for cause, rule in self.causes.items()
            if any(
                rule.says(clause, in_feedback=reported and not strengths.says(clause))
                for clause in sentence.clauses
            )
        ]

    def _feelings_in(self, sentence: Sentence) -> list[str]:
        found: list[str] = []
        for clause in sentence.clauses:
            named = [name for name, rule in self.emotions.items() if rule.says(clause)]
            if not named and not self.reader.is_fragment(sentence):
                own_words = self.feelings.named_in(clause)
                named = [own_words] if own_words else []
            elif not named:
                # A fragment names a feeling only by a known feeling word ("I'm
                # embarrassed"), never by whatever follows "I feel".
                state = self.feelings.state_in(clause)
                named = [state] if state else []
            found += named
        return found


def _written_by_seeker(proposal: dict[str, Any], text: str) -> dict[str, Any]:
    """The proposal without any entry whose text the seeker did not write: the
    record quotes the seeker, so a rule can never put words in their mouth."""
    written = " ".join(text.split())

    def found(sentence: str) -> bool:
        return " ".join(sentence.split()) in written

    checked = dict(proposal)
    for field in SENTENCE_FIELDS:
        checked[field] = [s for s in proposal[field] if found(s)]
    checked["likely_causes"] = [c for c in proposal["likely_causes"] if found(c["evidence"])]
    return checked


EXTENSION_KEY = "coach.keyword_rules"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = KeywordRules.compile(
        frameworks(app), Path(app.config["COACH_PROMPTS_DIR"])
    )


def keyword_rules(app: Flask | None = None) -> KeywordRules:
    rules: KeywordRules = (app or current_app).extensions[EXTENSION_KEY]
    return rules
