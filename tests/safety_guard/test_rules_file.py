"""The rules file loads and is validated: a broken or incomplete file is a clear
ConfigurationError that names the file and what is wrong, never a guard that
silently checks less."""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.errors import ConfigurationError
from coach.safety.output_guard import KINDS, RULES_FILE, OutputGuard
from tests.safety_guard.conftest import PROMPTS

SHIPPED = (PROMPTS / RULES_FILE).read_text("utf-8")


def write_rules(prompts_dir: Path, text: str) -> None:
    path = prompts_dir / RULES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def test_the_shipped_rules_cover_every_kind(guard: OutputGuard):
    assert {rule.kind for rule in guard.rules} == set(KINDS)
    assert len({rule.rule_id for rule in guard.rules}) == len(guard.rules)


def test_a_copy_of_the_shipped_file_loads(tmp_path: Path):
    write_rules(tmp_path, SHIPPED)
    assert OutputGuard.load(tmp_path).check("You have depression.").kind == "diagnosis"


def test_a_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ConfigurationError, match=r"output_rules\.toml"):
        OutputGuard.load(tmp_path)


def change(old: str, new: str) -> str:
    assert old in SHIPPED, old
    return SHIPPED.replace(old, new, 1)


BROKEN = [
    pytest.param(SHIPPED + "\n[[diagnosis.rules]\n", "Expected ']]'", id="bad-toml"),
    pytest.param(
        change("[pestering]", "[pestring]").replace("[[pestering.", "[[pestring."),
        "pestering",
        id="missing-kind",
    ),
    pytest.param(
        change("pattern = '''\\byou(?:(?:", "pattern = '''(\\byou(?:(?:"),
        "diagnosis.you_have_condition has a broken pattern",
        id="bad-regex",
    ),
    pytest.param(
        change("{condition}'''", "{conditions}'''"),
        "unknown term {conditions}",
        id="unknown-term",
    ),
    pytest.param(
        change('id = "you_are_label"', 'id = "you_have_condition"'),
        "rule ids used twice",
        id="duplicate-id",
    ),
    pytest.param(
        change('id = "dose"\n', 'id = "dose"\nphrases = ["dose"]\n'),
        "needs exactly one of pattern or phrases",
        id="pattern-and-phrases",
    ),
    pytest.param(change('id = "dose"\n', 'id = "dose"\nseverity = 3\n'), "severity", id="extra"),
    pytest.param(change('id = "dose"\n', 'id = "Dose!"\n'), "id", id="bad-id"),
    pytest.param(change("\nfallback = ", "\nfallback_text = "), "fallback", id="no-fallback"),
]


@pytest.mark.parametrize(("text", "message"), BROKEN)
def test_a_broken_rules_file_is_a_clear_error(tmp_path: Path, text: str, message: str):
    write_rules(tmp_path, text)
    with pytest.raises(ConfigurationError) as raised:
        OutputGuard.load(tmp_path)
    assert str(tmp_path / RULES_FILE) in raised.value.message
    assert message in raised.value.message
