"""Fixtures for the safety area: its data loaded once from the project's
`prompts/`, and the figures of the crisis set and of the safe-statement set
added to the terminal summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.safety.careful import SafeStatements
from coach.safety.crisis import CrisisScreen
from coach.safety.replies import SafetyReplies
from coach.safety.resources import ResourceDirectory
from tests.safety.crisis_set import FIGURES_KEY
from tests.safety.safe_statement_set import SAFE_FIGURES_KEY

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@pytest.fixture(scope="session")
def prompts_dir() -> Path:
    return PROMPTS


@pytest.fixture(scope="session")
def screen() -> CrisisScreen:
    return CrisisScreen.load(PROMPTS)


@pytest.fixture(scope="session")
def directory() -> ResourceDirectory:
    return ResourceDirectory.load(PROMPTS)


@pytest.fixture(scope="session")
def replies() -> SafetyReplies:
    return SafetyReplies.load(PROMPTS)


@pytest.fixture(scope="session")
def safe_statements() -> SafeStatements:
    return SafeStatements.load(PROMPTS)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config):
    for key, title in ((FIGURES_KEY, "crisis set"), (SAFE_FIGURES_KEY, "safe statements")):
        figures = config.stash.get(key, None)
        if figures:
            terminalreporter.write_sep("-", title)
            terminalreporter.write_line(figures)
