"""Careful mode: after a crisis the session stays careful (the coach checks in,
keeps the resources in view and does not push on) until the seeker says they
are safe, or a counselor clears it.

This module decides the one thing careful mode needs from the seeker's words:
whether a message says they are safe. The rules are data
(`prompts/safety/safe_statements.toml`). The session's flag and the turn that
uses this live elsewhere.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from coach.safety.normalise import normalise
from coach.safety.rule_data import Strict, compile_phrases, load_validated

SAFE_STATEMENTS_FILE = Path("safety") / "safe_statements.toml"


class SafeStatementRules(Strict):
    words: dict[str, str]
    safe: tuple[str, ...] = Field(min_length=1)
    not_safe: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _every_pattern_compiles(self) -> SafeStatementRules:
        compile_phrases(self.safe, self.words)
        compile_phrases(self.not_safe, self.words)
        return self


class SafeStatements:
    """The rules for "I am safe", compiled once."""

    def __init__(self, rules: SafeStatementRules) -> None:
        self._safe = compile_phrases(rules.safe, rules.words)
        self._not_safe = compile_phrases(rules.not_safe, rules.words)

    @classmethod
    def load(cls, prompts_dir: Path) -> SafeStatements:
        return cls(load_validated(prompts_dir / SAFE_STATEMENTS_FILE, SafeStatementRules))

    def says_they_are_safe(self, message: str) -> bool:
        """Whether `message` says the seeker is safe, with no negation or hedge."""
        text = normalise(message)
        return bool(self._safe.search(text)) and not self._not_safe.search(text)
