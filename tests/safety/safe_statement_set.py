"""The labelled set for leaving careful mode (`safe_statement_cases.toml`) as
cases, and where its figures are kept for the terminal summary."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

CASES_FILE = Path(__file__).with_name("safe_statement_cases.toml")
SAFE_FIGURES_KEY = pytest.StashKey[str]()


@dataclass(frozen=True)
class Case:
    text: str
    group: str

    @property
    def label(self) -> str:
        return f"{self.group}: {self.text}"


def _load(label: str) -> list[Case]:
    groups: dict[str, list[str]] = tomllib.loads(CASES_FILE.read_text("utf-8"))[label]
    return [Case(text, group) for group, texts in groups.items() for text in texts]


SAFE = _load("safe")
NOT_SAFE = _load("not_safe")
