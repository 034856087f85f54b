"""How the crisis screen reads a message: normal form, negation, earlier turns,
failing closed, and a clear error for a broken rules file."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from coach.errors import ConfigurationError
from coach.safety.crisis import FAILED_CLOSED, CrisisScreen, Screening
from coach.safety.normalise import normalise
from tests.safety.crisis_set import CRISIS, DISTRESS


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("I\u2019m NOT okay", "im not okay"),
        ("don't  dont", "dont dont"),
        ("Je pense à me suicider", "je pense a me suicider"),
        ("ich möchte", "ich mochte"),
        ("wanna dieeeee!!!", "wanna die"),
        ("ki\u200bll myself", "kill myself"),
        ("self-harm…", "self harm"),
    ],
)
def test_text_is_normalised_once_for_every_rule(text, normal):
    assert normalise(text) == normal


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("I'm not suicidal, just really disappointed", "none"),
        ("I don't want to live like this anymore", "crisis"),
        ("I would never hurt myself", "none"),
        ("I can't stop thinking about killing myself", "crisis"),
        ("I've never felt so suicidal", "crisis"),
        ("I'm not okay. I want to die", "crisis"),
        ("I won't give up", "none"),
        ("I give up", "distress"),
        ("nothing helps and I want to die", "crisis"),
    ],
)
def test_negation_cancels_only_what_it_negates(screen, text, level):
    assert screen.screen_for_crisis(text).level == level


def test_a_follow_up_needs_a_crisis_before_it(screen):
    follow_up = "I've been thinking about it a lot lately"
    assert screen.screen_for_crisis(follow_up).level == "none"
    assert screen.screen_for_crisis(follow_up, ["I want a new job"]).level == "none"
    after_crisis = screen.screen_for_crisis(follow_up, ["I want to die"])
    assert after_crisis == Screening("crisis", ("suicide",), ("follow_up.still_thinking",))


def test_only_the_last_few_messages_count(screen):
    replies = ["ok"] * screen.earlier_messages
    planning = "I've been planning it"
    assert screen.screen_for_crisis(planning, ["I want to die", *replies]).level == "none"
    assert screen.screen_for_crisis(planning, ["I want to die", *replies[1:]]).is_crisis


def test_an_earlier_crisis_does_not_make_every_later_message_one(screen):
    earlier = ["I want to kill myself"]
    assert screen.screen_for_crisis("ok, thank you, I will call them", earlier).level == "none"
    assert screen.screen_for_crisis("die", ["I just want to"]).is_crisis
    assert not screen.screen_for_crisis("ok", ["sometimes I think everyone"]).is_crisis


def test_a_screening_never_holds_the_message(screen):
    message = "zebracorn I want to die zebracorn"
    screening = screen.screen_for_crisis(message)
    assert screening.is_crisis
    assert "zebracorn" not in repr(screening)


def test_the_screen_fails_closed_without_logging_the_message(screen, monkeypatch, caplog):
    def broken(*_args: object) -> Screening:
        raise RuntimeError("zebracorn: the message that broke it")

    monkeypatch.setattr(screen, "_screen", broken)
    with caplog.at_level(logging.ERROR, logger="coach.safety.crisis"):
        assert screen.screen_for_crisis("zebracorn hello") == FAILED_CLOSED
    assert FAILED_CLOSED.is_crisis
    assert "RuntimeError" in caplog.text
    assert "zebracorn" not in caplog.text


def test_every_rule_is_exercised_by_the_set(screen):
    hit: set[str] = set()
    for case in [*CRISIS, *DISTRESS]:
        hit.update(screen.screen_for_crisis(case.text, case.earlier).matched_rule)
    assert screen.rule_ids - hit == set()


@pytest.fixture
def broken_prompts(tmp_path, prompts_dir) -> Path:
    shutil.copytree(prompts_dir / "safety", tmp_path / "safety")
    return tmp_path


def _edit(prompts: Path, old: str, new: str) -> None:
    path = prompts / "safety" / "crisis_signals.toml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("earlier_messages = 3", "earlier_messages = ", "not valid TOML"),
        ("kind = 'abuse'", "kind = 'sadness'", "abuse.physical"),
        ("'domestic (?:violence|abuse)'", "'domestic (?:violence|abuse'", "does not compile"),
        ("'domestic (?:violence|abuse)'", "'domestic {nonsense}'", "unknown word group"),
        ("'domestic (?:violence|abuse)'", "'Domestic Violence'", "lower case ASCII"),
        ("id = 'abuse.physical'", "id = 'danger.physical'", "must start with its kind"),
        ("id = 'abuse.spanish'", "id = 'abuse.physical'", "used twice"),
        ("negatable = true", "negatable = 'perhaps'", "negatable"),
    ],
)
def test_a_broken_rules_file_is_a_clear_error(broken_prompts, old, new, message):
    _edit(broken_prompts, old, new)
    with pytest.raises(ConfigurationError, match=r"crisis_signals\.toml") as raised:
        CrisisScreen.load(broken_prompts)
    assert message in str(raised.value)


def test_a_missing_rules_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot be read"):
        CrisisScreen.load(tmp_path)


@pytest.mark.parametrize(
    "text", ["yes", "Yeah.", "sometimes", "Honestly yes", "a bit, yeah", "I have", "maybe", "sí"]
)
def test_a_yes_opening_the_answer_to_the_check_in_is_a_crisis(screen, text):
    found = screen.answers_check_in(text)
    assert found is not None and found.is_crisis
    assert found.matched_rule == ("check_in_answer.yes",)


@pytest.mark.parametrize(
    "text",
    ["not really", "no, I'm ok", "I'm fine", "yesterday was hard", "maybe not", "Just tired."],
)
def test_no_and_other_answers_to_the_check_in_are_not_a_yes(screen, text):
    assert screen.answers_check_in(text) is None
