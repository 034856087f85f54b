"""The crisis test set (`crisis_cases.toml`) as cases, and where its figures are
kept for the terminal summary."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

CASES_FILE = Path(__file__).with_name("crisis_cases.toml")
OTHER_LANGUAGES = ("es", "fr", "de", "pt", "it")
FIGURES_KEY = pytest.StashKey[str]()


@dataclass(frozen=True)
class Case:
    text: str
    earlier: tuple[str, ...] = ()
    kind: str | None = None
    language: str = "en"

    @property
    def label(self) -> str:
        said = " / ".join([*self.earlier, self.text])
        return said if len(said) <= 60 else said[:57] + "..."


def load_cases(group: str) -> list[Case]:
    entries = tomllib.loads(CASES_FILE.read_text("utf-8"))[group]
    return [
        Case(
            text=entry["text"],
            earlier=tuple(entry.get("earlier", ())),
            kind=entry.get("kind"),
            language=entry.get("language", "en"),
        )
        for entry in entries
    ]


CRISIS = load_cases("crisis")
NEGATIVE = load_cases("negative")
DISTRESS = load_cases("distress")
