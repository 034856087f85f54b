"""A seeker who is not sure, and says nothing more, is told there is no rush: an
acknowledgement such as "That helps me see it more clearly" would thank them for
news they did not give."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from flask import Flask

from coach.guide.move import MOVE_ON, YES
from tests.conftest import ApiActions
from tests.test_dialogue import Chat


def lines(app: Flask, key: str) -> list[str]:
    data = tomllib.loads((Path(app.config["COACH_PROMPTS_DIR"]) / "guided.toml").read_text())
    found: list[str] = data["reflect"][key]
    return found


@pytest.fixture
def in_causes(app: Flask, api: ApiActions) -> Chat:
    chat = Chat(app, api)
    for said in ("They turned me down after the second interview. I'm gutted.", YES, MOVE_ON):
        chat.say(said)
    return chat


@pytest.mark.parametrize(
    "said",
    ["Hmm, I am still thinking about it all.", "Honestly I'm not sure what else to say."],
)
def test_not_being_sure_is_met_with_no_rush_not_thanks_for_news(app, in_causes: Chat, said):
    reply = in_causes.say(said)["content"]
    assert any(line in reply for line in lines(app, "unsure"))
    assert not any(line in reply for line in lines(app, "plain"))
    assert in_causes.record.likely_causes == []


def test_not_sure_beside_news_is_answered_as_the_news(app, in_causes: Chat):
    reply = in_causes.say("I'm not sure, but they said my SQL was weak.")["content"]
    assert not any(line in reply for line in lines(app, "unsure"))
    assert "**skills or experience gap**" in reply
