"""Careful mode: after a crisis the session stays careful (the coach checks in,
keeps the resources in view and does not push on) until the seeker says they
are safe, or a counselor clears it.

This module decides the one thing careful mode needs from the seeker's words:
whether a message says they are safe. The rules are data
(`prompts/safety/safe_statements.toml`). The session's flag and the turn that
uses this live elsewhere.

Leaving careful mode wrongly, for someone still in danger, is the worst mistake
the coach can make; staying in it one turn too long costs a repeated check-in.
So the reading is strict both ways:

- a safe statement counts only where the seeker says it about themselves: at
  the start of a clause (after a comma, a full stop, "and", "yes", ...), in a
  sentence that is not a question. "My mom asks if I'm safe" holds "I'm safe",
  but not as something the seeker says;
- any `not_safe` pattern anywhere in the message (a negation, a hedge, a time
  limit, a warning sign, reported speech) outweighs every safe statement in it;
- every word must be accounted for, by a safe statement or a known companion
  ("thanks", "my sister is here"). Warning signs have no end; a message with
  anything unknown in it gets one more check-in rather than a guess.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, model_validator

from coach.safety.normalise import normalise
from coach.safety.rule_data import Strict, compile_phrases, load_validated

SAFE_STATEMENTS_FILE = Path("safety") / "safe_statements.toml"

# A sentence runs to a full stop, exclamation or question mark, ellipsis or line
# break. One that ends with "?" (or holds the Spanish "¿") asks, it does not say.
_SENTENCE = re.compile(r"[^.!?\n\u2026]+[.!?\n\u2026]*")
_QUESTION_MARKS = ("?", "\u00bf", "\uff1f")
# Clauses are split where the punctuation is, before normalising takes it away:
# commas, semicolons, colons, brackets, double quotes and free-standing dashes.
# Apostrophes, typographic ones too, belong to words ("don't", "I\u2019m").
_CLAUSE_BREAK = re.compile(r"[,;:()\[\]{}\"\u201c\u201d\u00ab\u00bb]|\s-+\s|[\u2013\u2014]")
# Words in quotation marks are someone else's ('she texted "I'm safe"') or said
# with scare quotes ("I'm 'safe'"); normalising drops the marks, so they are
# looked for first. A single quote counts only around words, not inside one.
_QUOTED = re.compile(
    r"[\"\u201c\u201d\u201e\u00ab\u00bb]"
    r"|(?<![^\W\d_])['\u2018\u2019`][^'\u2018\u2019`]+['\u2018\u2019`](?![^\W\d_])"
)


class SafeStatementRules(Strict):
    words: dict[str, str]
    # Words that may open a clause before the safe statement ("yes", "honestly").
    lead_in: tuple[str, ...] = Field(min_length=1)
    # Words after which a new clause starts without punctuation ("and", "so").
    joiner: tuple[str, ...] = Field(min_length=1)
    # What may be said along with a safe statement ("thanks", "I'm at home").
    companion: tuple[str, ...] = Field(min_length=1)
    safe: tuple[str, ...] = Field(min_length=1)
    not_safe: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _every_pattern_compiles(self) -> SafeStatementRules:
        _compile_statement(self)
        _compile_known(self)
        compile_phrases(self.not_safe, self.words)
        return self


def _compile_statement(rules: SafeStatementRules) -> re.Pattern[str]:
    """A safe statement at the start of a clause, or after a joiner, with any lead-in."""
    lead_in = compile_phrases(rules.lead_in, rules.words).pattern
    joiner = compile_phrases(rules.joiner, rules.words).pattern
    safe = compile_phrases(rules.safe, rules.words).pattern
    return re.compile(rf"(?:^|(?:{joiner}) )(?:(?:{lead_in}) )*(?:{safe})")


def _compile_known(rules: SafeStatementRules) -> re.Pattern[str]:
    """Any phrase that may make up a message that says "I am safe"."""
    phrases = (*rules.safe, *rules.companion, *rules.lead_in, *rules.joiner)
    return compile_phrases(phrases, rules.words)


def statement_clauses(message: str) -> list[str]:
    """The clauses of `message` that are not in a question, each normalised."""
    clauses = []
    for sentence in _SENTENCE.findall(message):
        if any(mark in sentence for mark in _QUESTION_MARKS):
            continue
        for clause in _CLAUSE_BREAK.split(sentence):
            normal = normalise(clause)
            if normal:
                clauses.append(normal)
    return clauses


class SafeStatements:
    """The rules for "I am safe", compiled once."""

    def __init__(self, rules: SafeStatementRules) -> None:
        self._statement = _compile_statement(rules)
        self._known = _compile_known(rules)
        self._not_safe = compile_phrases(rules.not_safe, rules.words)

    @classmethod
    def load(cls, prompts_dir: Path) -> SafeStatements:
        return cls(load_validated(prompts_dir / SAFE_STATEMENTS_FILE, SafeStatementRules))

    def says_they_are_safe(self, message: str) -> bool:
        """Whether `message` says, in the seeker's own voice, that they are safe now,
        with no negation, hedge, time limit or warning sign anywhere in it, and
        nothing else but what is commonly said along with it."""
        if self.holds_a_warning(message):
            return False
        if self._known.sub(" ", normalise(message)).strip():
            return False
        return any(self._statement.search(clause) for clause in statement_clauses(message))

    def holds_a_warning(self, message: str) -> bool:
        """Whether `message` holds a negation, hedge, time limit, condition, someone
        else's words or a warning sign, each of which outweighs "I'm safe"."""
        return bool(_QUOTED.search(message) or self._not_safe.search(normalise(message)))
