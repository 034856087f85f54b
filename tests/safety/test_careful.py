"""Leaving careful mode: the seeker says they are safe, in their own words and
in the five other languages; a negation or a hedge keeps the coach checking in."""

from __future__ import annotations

import shutil

import pytest

from coach.errors import ConfigurationError
from coach.safety.careful import SafeStatements


@pytest.mark.parametrize(
    "message",
    [
        "I'm safe",
        "I'm okay now, I won't do anything",
        "I am safe, thank you",
        "im safe now",
        "I\u2019m totally safe, I promise",
        "I won't hurt myself",
        "I'm not going to do anything",
        "The urge has passed",
        "estoy a salvo, gracias",
        "ya estoy bien, no voy a hacer nada",
        "je suis en sécurité",
        "je ne vais rien faire",
        "Ich bin in Sicherheit",
        "ich werde mir nichts antun",
        "estou em segurança",
        "não vou fazer nada",
        "sono al sicuro",
        "non farò niente",
    ],
)
def test_saying_they_are_safe_is_heard(safe_statements, message):
    assert safe_statements.says_they_are_safe(message)


@pytest.mark.parametrize(
    "message",
    [
        "I'm not safe",
        "I don't feel safe",
        "im not really safe",
        "I'm safe for now",
        "I'm not sure I'm safe",
        "I'm not okay",
        "I feel unsafe",
        "thanks",
        "I want to die",
        "no estoy a salvo",
        "je ne suis pas en sécurité",
        "ich bin nicht in Sicherheit",
        "não estou em segurança",
        "non sono al sicuro",
    ],
)
def test_a_negation_or_hedge_is_not_safe(safe_statements, message):
    assert not safe_statements.says_they_are_safe(message)


def test_a_broken_safe_statements_file_is_a_clear_error(tmp_path, prompts_dir):
    shutil.copytree(prompts_dir / "safety", tmp_path / "safety")
    path = tmp_path / "safety" / "safe_statements.toml"
    path.write_text(path.read_text("utf-8").replace("'unsafe|", "'un(safe|", 1), "utf-8")
    with pytest.raises(ConfigurationError, match=r"safe_statements\.toml"):
        SafeStatements.load(tmp_path)
