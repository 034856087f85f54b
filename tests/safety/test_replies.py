"""The fixed safety replies: help named for every region, no coaching in any."""

from __future__ import annotations

import re
import shutil

import pytest

from coach.errors import ConfigurationError
from coach.safety.replies import SafetyReplies

REGIONS = ["US", "GB", "IE", "INTL"]
KINDS = ["crisis", "check_in", "check_in_again", "glad_safe", "distress"]
# Coaching belongs to the coaching turns; none of it may reach a person in danger.
COACHING_WORDS = re.compile(
    r"\b(interview\w*|plan\w*|job|jobs|rejection|application\w*|career|goal\w*|strateg\w*|"
    r"next step\w*|feedback|recruiter|cause\w*|tip\w*|improve\w*|resilien\w*)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_no_reply_holds_coaching(replies, directory, kind, region):
    text = replies.reply_markdown(kind, directory.crisis_resources(region))
    assert not COACHING_WORDS.search(text), COACHING_WORDS.findall(text)
    assert "{" not in text


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_reply_lists_the_regions_helplines(replies, directory, kind, region):
    resources = directory.crisis_resources(region)
    text = replies.reply_markdown(kind, resources)
    for line in resources.lines:
        assert line.name in text
        assert (line.number or line.url or "") in text


@pytest.mark.parametrize(("region", "emergency"), [("US", "911"), ("GB", "999"), ("IE", "112")])
def test_the_crisis_reply_says_what_the_coach_is_and_where_help_is(
    replies, directory, region, emergency
):
    text = replies.crisis_reply(directory.crisis_resources(region))
    assert "not a person" in text
    assert "not a crisis service" in text
    assert "immediate danger" in text
    assert f"**{emergency}**" in text
    assert "?" not in text


def test_without_a_number_the_crisis_reply_names_the_local_one(replies, directory):
    text = replies.crisis_reply(directory.crisis_resources(None))
    assert "your local emergency number" in text
    assert "findahelpline.com" in text


def test_the_check_in_asks_whether_they_are_safe(replies, directory):
    text = replies.check_in_reply(directory.crisis_resources("US"))
    assert "are you safe?" in text
    assert "**911**" in text


def test_the_distress_reply_checks_gently(replies, directory):
    text = replies.distress_reply(directory.crisis_resources("GB"))
    assert "?" in text
    assert "not wanting to be here" in text


def test_the_glad_safe_reply_does_not_push_on(replies, directory):
    text = replies.glad_safe_reply(directory.crisis_resources("IE"))
    assert "glad you're safe" in text
    assert "116 123" in text


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("call {emergency} now", "call now", "must hold {emergency}"),
        ("call {emergency} now", "call {emergency} now, {name}", "unknown placeholders"),
        ("[distress]", "[distres]", "distres"),
    ],
)
def test_a_broken_replies_file_is_a_clear_error(tmp_path, prompts_dir, old, new, message):
    shutil.copytree(prompts_dir / "safety", tmp_path / "safety")
    path = tmp_path / "safety" / "replies.toml"
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(ConfigurationError, match=r"replies\.toml") as raised:
        SafetyReplies.load(tmp_path)
    assert message in str(raised.value)
