"""Guided mode: deterministic replies drawn from the frameworks, in the seeker's words."""

from __future__ import annotations

import pytest

from coach.guide.frameworks import STAGES, frameworks
from coach.guide.record import LikelyCause, ReflectionRecord
from coach.providers import Completion, GuidedPrompt, provider
from coach.providers.guided import GuidedProvider


def _prompt(
    stage: str, turn: int, text: str, record: ReflectionRecord | None = None
) -> GuidedPrompt:
    return GuidedPrompt(
        user_message=text,
        stage=stage,
        stage_turn=turn,
        turn_number=turn,
        record=record or ReflectionRecord(),
    )


def _reply(app, prompt: GuidedPrompt) -> str:
    completion = Completion()
    text = "".join(provider(app).stream_reply(prompt, completion))
    assert completion.model == "guided"
    return text


def test_the_same_turn_gets_the_same_reply(app):
    prompt = _prompt("emotions", 2, "I feel flat.")
    assert _reply(app, prompt) == _reply(app, prompt)


@pytest.mark.parametrize("stage", STAGES)
def test_entering_a_stage_opens_it_and_gives_the_words_back(app, stage):
    reply = _reply(app, _prompt(stage, 1, "This is what I said. And more."))
    assert "This is what I said." in reply
    assert frameworks(app).stage(stage).opening in reply


def test_later_turns_ask_the_stage_questions_in_order(app):
    questions = frameworks(app).stage("resilience").questions
    assert questions[0] in _reply(app, _prompt("resilience", 2, "ok"))
    assert questions[1] in _reply(app, _prompt("resilience", 3, "ok"))


def test_entering_causes_acknowledges_the_named_feeling(app):
    anger = frameworks(app).stage("emotions").section("reactions").item("anger")
    record = ReflectionRecord(emotions=[anger.name.lower()])
    reply = _reply(app, _prompt("causes", 1, "Yes, angry.", record))
    assert f"**{anger.name}**" in reply
    assert anger.text in reply


def test_improvement_offers_the_strategies_mapped_to_the_cause(app):
    record = ReflectionRecord(likely_causes=[LikelyCause(cause="skills_gap", evidence="SQL")])
    reply = _reply(app, _prompt("improvement", 1, "So, skills.", record))
    for strategy in frameworks(app).strategies_for("skills_gap"):
        assert strategy.name in reply


def test_the_seekers_markdown_is_not_echoed_as_markup(app):
    reply = _reply(app, _prompt("emotions", 1, "[click me](https://evil.example) **loud**"))
    assert "](" not in reply.split("\n\n")[0]
    assert "click me" in reply


def test_openings_keep_varying_in_a_long_conversation(api):
    token = api.guest()
    session_id = api.new_session(token)
    openings = []
    for turn in range(12):
        reply = api.send(token, session_id, f"Point {turn}.").json["reply"]["content"]
        openings.append(reply.split(f"Point {turn}.")[0])
    assert len(set(openings[-5:])) > 1, openings


def test_acknowledgements_need_the_words_placeholder(app):
    with pytest.raises(ValueError, match="words"):
        GuidedProvider(frameworks(app), ("Thanks for sharing.",))
