"""Guided mode does not ask a question the seeker has answered already, in passing or
in the record: asked again, it reads as not having listened."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from coach.coaching.dialogue_state import DialogueState
from coach.coaching.reading import DialogueRules, dialogue_rules, unknown_names
from coach.coaching.stages import next_open_question
from coach.guide.frameworks import Framework, Question, frameworks
from coach.guide.move import MOVE_ON, YES
from coach.guide.record import LikelyCause, ReflectionRecord
from tests.conftest import ApiActions
from tests.test_dialogue import Chat


@pytest.fixture
def chat(app: Flask, api: ApiActions) -> Chat:
    return Chat(app, api)


def questions(app: Flask, stage: str) -> list[str]:
    return [q.text for q in frameworks(app).stage(stage).questions]


def asked(app: Flask, stage: str, reply: str) -> list[str]:
    return [q for q in questions(app, stage) if q in reply]


def test_a_question_the_seekers_account_answered_is_not_asked_next(app, chat: Chat):
    for said in ("They turned me down after the second interview. I'm gutted.", YES, MOVE_ON):
        chat.say(said)
    strongest_and_shakiest, struggled_with = questions(app, "causes")[:2]
    reply = chat.say("The coding part went fine but the behavioural round felt rough, honestly.")
    assert strongest_and_shakiest not in reply["content"]
    assert asked(app, "causes", reply["content"]) == [struggled_with]


def test_a_question_answered_earlier_in_the_stage_is_skipped_when_its_turn_comes(app, chat: Chat):
    for said in ("They turned me down after the second interview. I'm gutted.", YES, MOVE_ON):
        chat.say(said)
    research = questions(app, "causes")[3]
    chat.say("Honestly I read their whole website before the interview.")
    seen = [chat.say("Hmm, I am still thinking about it all.")["content"] for _ in range(3)]
    assert not any(research in reply for reply in seen)
    # The questions around it are still asked, in their order.
    order = [q for reply in seen for q in asked(app, "causes", reply)]
    assert order == sorted(order, key=questions(app, "causes").index)
    assert len(order) == 3


def test_what_the_record_holds_answers_a_question(app, chat: Chat):
    chat.say("They turned me down after the second interview. I'm gutted.")
    chat.say(YES)
    chat.move_to("resilience")
    chat.say("My sister Ana is always there for me when things get hard.")
    chat.say(YES)
    assert "Ana" in " ".join(chat.record.support)
    turn_to = questions(app, "resilience")[5]
    replies = [chat.say("I am not sure yet, still thinking.")["content"] for _ in range(7)]
    assert not any(turn_to in reply for reply in replies)


def test_each_name_a_question_is_answered_by_means_something(app):
    """Every `answered_by` name is a part of the record or a topic of `[answered]`,
    and every topic is used by some question: the check at start has nothing to stop."""
    rules = dialogue_rules(app)
    unknown_names(frameworks(app), rules)
    used = {
        name
        for stage in ("emotions", "causes", "improvement", "resilience", "plan")
        for q in frameworks(app).stage(stage).questions
        for name in q.answered_by
    }
    assert set(rules.topics) <= used


def test_a_misspelt_name_stops_the_app_at_start(app):
    loaded = frameworks(app)
    resilience = loaded.stage("resilience")
    broken = resilience.model_copy(
        update={"questions": (Question(text="Who helps?", answered_by=("suport",)),)}
    )
    loaded.by_stage["resilience"] = broken
    try:
        with pytest.raises(ValueError, match="suport"):
            unknown_names(loaded, DialogueRules.load(Path(app.config["COACH_PROMPTS_DIR"])))
    finally:
        loaded.by_stage["resilience"] = resilience


def test_when_every_question_is_answered_the_next_one_is_asked_anyway(app):
    causes: Framework = frameworks(app).stage("causes")
    state = DialogueState(questions=5, answered=list(dialogue_rules(app).topics))
    record = ReflectionRecord(
        feedback=["They wanted more depth"],
        likely_causes=[LikelyCause(cause="competition", evidence="An internal candidate")],
    )
    # Question 5 (feedback) and 6 (who else) are answered; 7 is not.
    assert next_open_question(causes, state, record) == 7
    everything = causes.model_copy(
        update={
            "questions": tuple(
                q.model_copy(update={"answered_by": ("feedback",)}) for q in causes.questions
            )
        }
    )
    assert next_open_question(everything, state, record) == 5


def test_the_question_what_they_felt_offers_the_feelings_to_pick(app, chat: Chat):
    first_feeling = questions(app, "emotions")[0]
    reply = chat.say("hi")
    assert first_feeling in reply["content"]
    assert "Disappointment" in reply["choices"] and "Relief" in reply["choices"]
    # Picked, the feeling is noted as the seeker's own, and the news gets its sorry.
    picked = chat.say("Disappointment")
    assert chat.record.emotions == ["disappointment"]
    assert picked["content"].startswith("I am sorry the news was not what you hoped for.")
    # Other questions are open ones: no buttons under them.
    chat.say("Stay here")
    later = chat.say("Hmm, I am still thinking about it all.")
    assert asked(app, "emotions", later["content"]) and later["choices"] == []


@pytest.mark.parametrize(
    "said",
    [
        "I told them my salary expectations.",
        "I applied through their website.",
        "I did the take-home on my own.",
        "I'll never forget how cold the email was.",
    ],
)
def test_words_about_something_else_answer_no_question(app: Flask, said):
    assert dialogue_rules(app).read(said).answered == frozenset()
