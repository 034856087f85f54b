"""The crisis screen: transparent rules that read every seeker message, before
the stage logic, the keyword rules or any model, for signs that the seeker may
be in danger.

The rules are data (`prompts/safety/crisis_signals.toml`); this module
normalises the text once, blanks out figurative job-search talk ("this
rejection is killing me"), applies the rules with their negations, and reads
the message together with the seeker's last few messages, so that a statement
split over two messages or a follow-up ("I've been planning it") is caught.

A `Screening` names rule ids only, never the seeker's words, so it may be
logged and stored. The screen fails closed: if applying the rules raises, the
answer is a crisis and the seeker gets the resources.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from coach.safety.normalise import normalise
from coach.safety.rule_data import Strict, check_normal_form, compile_phrases, load_validated

logger = logging.getLogger(__name__)

SIGNALS_FILE = Path("safety") / "crisis_signals.toml"
CRISIS_KINDS = ("suicide", "self_harm", "harm_to_others", "abuse", "danger")
DISTRESS_KINDS = ("hopelessness",)
Level = Literal["none", "distress", "crisis"]
Kind = Literal["suicide", "self_harm", "harm_to_others", "abuse", "danger", "hopelessness"]
Language = Literal["any", "en", "es", "fr", "de", "pt", "it"]
# Enough words before a phrase to hold a negation cue and its fillers.
NEGATION_WINDOW_WORDS = 6
# What replaces figurative talk: no rule can match across or inside it.
BLANK = " # "


@dataclass(frozen=True)
class Screening:
    """What the screen found in one message: rule ids, never the seeker's text."""

    level: Level
    kinds: tuple[str, ...] = ()
    matched_rule: tuple[str, ...] = ()

    @property
    def is_crisis(self) -> bool:
        return self.level == "crisis"


NOTHING_FOUND = Screening("none")
# When the screen itself fails, the seeker is treated as in crisis.
FAILED_CLOSED = Screening("crisis", kinds=(), matched_rule=("screen.failed_closed",))


class Rule(Strict):
    id: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$")
    kind: Kind
    language: Language
    patterns: tuple[str, ...] = Field(min_length=1)
    negatable: bool = False
    # Patterns of which one must also occur in the text for the rule to count.
    needs_any: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _id_names_its_kind(self) -> Rule:
        if self.id.split(".")[0] != self.kind:
            raise ValueError(f"rule {self.id} must start with its kind {self.kind!r}")
        return self


class PatternGroup(Strict):
    id: str = Field(pattern=r"^[a-z_]+(?:\.[a-z0-9_]+)?$")
    patterns: tuple[str, ...] = Field(min_length=1)


class Negation(Strict):
    cues: tuple[str, ...] = Field(min_length=1)
    fillers: tuple[str, ...] = ()


class CrisisSignals(Strict):
    """`prompts/safety/crisis_signals.toml`, checked to compile on load."""

    earlier_messages: int = Field(ge=1, le=10)
    words: dict[str, str]
    negation: Negation
    figurative: tuple[PatternGroup, ...]
    rule: tuple[Rule, ...] = Field(min_length=1)
    follow_up: tuple[PatternGroup, ...]
    # A yes to the distress reply's question, said right after it.
    check_in_answer: PatternGroup

    @model_validator(mode="after")
    def _every_pattern_compiles(self) -> CrisisSignals:
        for name, words in self.words.items():
            check_normal_form(words)
            if re.search(r"\{[a-z_]+\}", words):
                raise ValueError(f"word group {name} may not name another word group")
        ids = [r.id for r in self.rule] + [f.id for f in self.follow_up]
        ids.append(self.check_in_answer.id)
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"rule ids used twice: {duplicates}")
        groups: list[Rule | PatternGroup] = [
            *self.rule,
            *self.figurative,
            *self.follow_up,
            self.check_in_answer,
        ]
        for group in groups:
            try:
                compile_phrases(group.patterns, self.words)
            except ValueError as exc:
                raise ValueError(f"{group.id}: {exc}") from exc
        for rule in self.rule:
            if rule.needs_any:
                compile_phrases(rule.needs_any, self.words)
        compile_phrases([*self.negation.cues, *self.negation.fillers], self.words)
        return self


@dataclass(frozen=True)
class _CompiledRule:
    id: str
    kind: str
    pattern: re.Pattern[str]
    negatable: bool
    needs_any: re.Pattern[str] | None


class CrisisScreen:
    """The crisis rules, compiled once; `screen_for_crisis` reads one message."""

    def __init__(self, signals: CrisisSignals) -> None:
        words = signals.words
        self.earlier_messages = signals.earlier_messages
        self._figurative = compile_phrases(
            [p for group in signals.figurative for p in group.patterns], words
        )
        cues = "|".join(signals.negation.cues)
        fillers = "|".join(signals.negation.fillers)
        self._negation_before = re.compile(rf"\b(?:{cues})(?: (?:{fillers}))* $")
        self._rules = tuple(
            _CompiledRule(
                id=rule.id,
                kind=rule.kind,
                pattern=compile_phrases(rule.patterns, words),
                negatable=rule.negatable,
                needs_any=compile_phrases(rule.needs_any, words) if rule.needs_any else None,
            )
            for rule in signals.rule
        )
        self._follow_ups = tuple(
            _CompiledRule(group.id, "follow_up", compile_phrases(group.patterns, words), True, None)
            for group in signals.follow_up
        )
        self._check_in_answer = _CompiledRule(
            signals.check_in_answer.id,
            "check_in_answer",
            compile_phrases(signals.check_in_answer.patterns, words),
            False,
            None,
        )
        # The rules `screen_for_crisis` reads with (the check-in answer is read apart).
        self.rule_ids = frozenset(r.id for r in (*self._rules, *self._follow_ups))
        # Every rule's evidence in one expression: most texts match no rule at all,
        # and one search says so where a search per rule takes fifty (the screen runs
        # while the turn holds the database's write lock).
        self._any_rule = re.compile("|".join(f"(?:{r.pattern.pattern})" for r in self._rules))

    @classmethod
    def load(cls, prompts_dir: Path) -> CrisisScreen:
        return cls(load_validated(prompts_dir / SIGNALS_FILE, CrisisSignals))

    def answers_check_in(self, message: str) -> Screening | None:
        """A crisis if `message` opens with a yes (read right after the distress reply,
        whose question a yes answers: thoughts of not wanting to be here)."""
        found = self._check_in_answer.pattern.match(self._prepare(message))
        if found is None:
            return None
        return Screening("crisis", kinds=("suicide",), matched_rule=(self._check_in_answer.id,))

    def screen_for_crisis(self, message: str, earlier: Sequence[str] = ()) -> Screening:
        """Screen `message`, read after `earlier` (the seeker's previous messages in
        the session, oldest first; only the last few matter)."""
        try:
            recent = list(earlier)[-self.earlier_messages :] if earlier else []
            return self._screen(message, recent)
        except Exception as exc:
            # Only the exception's type: its text could quote the message.
            logger.error("crisis screen failed (%s); answering as a crisis", type(exc).__name__)
            return FAILED_CLOSED

    def _screen(self, message: str, earlier: list[str]) -> Screening:
        current = self._prepare(message)
        before = [self._prepare(text) for text in earlier]
        previous = before[-1] if before else None
        hits = self._hits_in(current, previous)
        crisis = [rule for rule in hits if rule.kind in CRISIS_KINDS]
        if crisis:
            return _screening("crisis", crisis)
        follow_ups = self._follow_ups_in(current, before)
        if follow_ups:
            return follow_ups
        distress = [rule for rule in hits if rule.kind in DISTRESS_KINDS]
        if distress:
            return _screening("distress", distress)
        return NOTHING_FOUND

    def _prepare(self, text: str) -> str:
        return " ".join(self._figurative.sub(BLANK, normalise(text)).split())

    def _hits_in(self, current: str, previous: str | None) -> list[_CompiledRule]:
        """The rules that match `current`, alone or as the end of a statement that
        began in the `previous` message."""
        hits: list[_CompiledRule] = []
        if self._any_rule.search(current):
            hits = [rule for rule in self._rules if self._matches(rule, current)]
        if previous:
            joined = f"{previous} {current}"
            if not self._any_rule.search(joined):
                return hits
            start_of_current = len(previous) + 1
            hits += [
                rule
                for rule in self._rules
                if rule not in hits and self._matches(rule, joined, start_of_current)
            ]
        return hits

    def _follow_ups_in(self, current: str, before: list[str]) -> Screening | None:
        """A follow-up ("I've been planning it") to a crisis in an earlier message."""
        # The follow-up first: few messages have one, and only then are the earlier
        # messages screened again.
        found = [rule for rule in self._follow_ups if self._matches(rule, current)]
        if not found:
            return None
        earlier_kinds: set[str] = set()
        for position, text in enumerate(before):
            previous = before[position - 1] if position else None
            earlier_kinds.update(
                rule.kind for rule in self._hits_in(text, previous) if rule.kind in CRISIS_KINDS
            )
        if not earlier_kinds:
            return None
        kinds = tuple(kind for kind in CRISIS_KINDS if kind in earlier_kinds)
        return Screening("crisis", kinds, tuple(rule.id for rule in found))

    def _matches(self, rule: _CompiledRule, text: str, ending_after: int = 0) -> bool:
        """Whether `rule` matches `text`, not cancelled by a negation just before it,
        with some of its evidence ending after `ending_after` (in the current message)."""
        ends = [
            found.end()
            for found in rule.pattern.finditer(text)
            if not (rule.negatable and self._negated_before(text, found.start()))
        ]
        if not ends:
            return False
        if rule.needs_any:
            also = [found.end() for found in rule.needs_any.finditer(text)]
            if not also:
                return False
            ends += also
        return max(ends) > ending_after

    def _negated_before(self, text: str, position: int) -> bool:
        window = text[:position].split()[-NEGATION_WINDOW_WORDS:]
        return bool(window) and bool(self._negation_before.search(" ".join(window) + " "))


def _screening(level: Level, rules: list[_CompiledRule]) -> Screening:
    kinds = {rule.kind for rule in rules}
    order = CRISIS_KINDS + DISTRESS_KINDS
    return Screening(
        level,
        kinds=tuple(kind for kind in order if kind in kinds),
        matched_rule=tuple(rule.id for rule in rules),
    )
