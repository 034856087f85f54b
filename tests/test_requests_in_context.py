"""A request is honoured at once, and words that only look like one are not: a break
from job hunting is no break from the conversation, and a reply to a friend is no
reply to the recruiter. A guess about what the employer thought is not their
feedback."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from coach.guide.move import MOVE_ON, YES
from tests.conftest import ApiActions
from tests.test_dialogue import Chat

NEWS = "They turned me down after the second interview."
BREAK_WORDS = "let's take a break"
DRAFT = "> Dear [name],"


@pytest.fixture
def chat(app: Flask, api: ApiActions) -> Chat:
    talk = Chat(app, api)
    talk.say(NEWS)
    return talk


@pytest.mark.parametrize(
    "said",
    [
        "Disappointment, mostly. I think I need a break from job hunting for a week, honestly.",
        "I need a break from applying, it's been months of this.",
    ],
)
def test_a_break_from_something_else_is_not_a_break_from_the_conversation(chat: Chat, said):
    reply = chat.say(said)
    assert BREAK_WORDS not in reply["content"]


@pytest.mark.parametrize("said", ["I need a break.", "Can we take a break?"])
def test_a_break_asked_for_is_still_honoured(chat: Chat, said):
    assert BREAK_WORDS in chat.say(said)["content"]


def test_a_reply_to_a_friend_is_not_a_reply_to_the_recruiter(chat: Chat):
    reply = chat.say(
        "My friend texted asking how it went. Can you help me reply to her without sounding bitter?"
    )
    assert DRAFT not in reply["content"]


@pytest.mark.parametrize(
    "said",
    [
        "My friend says I should reply to the recruiter. Can you help me reply?",
        "Can you help me reply to the rejection email?",
    ],
)
def test_a_reply_to_the_employer_is_drafted_even_with_a_friend_in_the_message(chat: Chat, said):
    assert DRAFT in chat.say(said)["content"]


@pytest.mark.parametrize(
    ("said", "stage"),
    [
        ("I'd hoped a lot I think. Can we move on?", "causes"),
        ("Let's look at why it happened.", "causes"),
    ],
)
def test_asking_to_move_on_moves_on(chat: Chat, said, stage):
    assert chat.say(said)["stage"] == stage


def test_a_guess_about_what_they_thought_is_not_recorded_as_their_feedback(chat: Chat):
    chat.say("I rambled on the weakness question and they must have thought I was an idiot.")
    assert chat.record.feedback == []


def test_what_the_seeker_has_done_already_is_not_suggested_to_them(chat: Chat):
    chat.move_to("causes")
    said = [
        "I asked for feedback and they never replied.",
        "Still nothing really.",
        "Hmm, I am still thinking about it all.",
        "Not much else to say about it.",
    ]
    replies = [chat.say(text)["content"] for text in said]
    chat.move_to("resilience")
    replies += [chat.say("Hmm, I am still thinking about it all.")["content"] for _ in range(4)]
    for reply in replies:
        assert "**Ask for feedback.**" not in reply and "**Ask politely for more.**" not in reply
    # Nor is it listed, offered as a choice, or planned as a goal.
    chat.move_to("causes")
    entered = chat.say("Let's move on")
    assert entered["stage"] == "improvement"
    assert "Ask the employer for feedback" not in entered["content"]
    assert "Ask the employer for feedback" not in entered["choices"]
    chat.say("Make my plan")
    plan = chat.api.client.get(
        f"/api/v1/sessions/{chat.session_id}/plan", headers=chat.api.headers(chat.token)
    ).json
    assert "Ask the employer for feedback" not in [goal["title"] for goal in plan["goals"]]


@pytest.mark.parametrize(
    "said",
    [
        "I haven't asked for feedback yet.",
        "My friend asked why I didn't get it.",
        "I asked them about the team culture in the interview.",
    ],
)
def test_what_the_seeker_has_not_done_can_still_be_suggested(chat: Chat, said):
    chat.move_to("causes")
    chat.say(said)
    chat.move_to("improvement")
    entered = chat.say("Hmm, I am still thinking about it all.")
    assert chat.say("Make my plan")["stage"] == "plan"
    plan = chat.api.client.get(
        f"/api/v1/sessions/{chat.session_id}/plan", headers=chat.api.headers(chat.token)
    ).json
    assert "Ask the employer for feedback" in [goal["title"] for goal in plan["goals"]], entered


def test_asking_for_no_more_suggestions_is_honoured(chat: Chat):
    reply = chat.say("Stop telling me to learn stuff, I just want to be heard.")
    assert reply["content"].startswith("Of course, no more tips.")


def test_someone_who_wants_to_vent_is_not_asked_to_move_on_as_soon_as_a_feeling_is_named(
    chat: Chat,
):
    chat.say("I just need to vent. I feel gutted.")
    after_yes = chat.say(YES)
    assert after_yes["stage"] == "emotions" and MOVE_ON not in after_yes["choices"]
    # Once the stage has run its length, the choice to move on comes.
    said = [chat.say("It still stings, honestly.")["choices"] for _ in range(5)]
    assert any(MOVE_ON in choices for choices in said)


@pytest.mark.parametrize(
    ("said", "stage"),
    [
        ("Yes, but I'm still really angry about it.", "emotions"),
        ("OK but honestly it still stings.", "emotions"),
        ("Sure, although I still feel awful.", "emotions"),
        ("Yes, let's move on, though it still stings.", "causes"),
        ("Sure.", "causes"),
    ],
)
def test_a_yes_to_moving_on_with_a_but_stays(chat: Chat, said, stage):
    asked = chat.say("I'm really angry.")
    assert MOVE_ON in asked["choices"]
    assert chat.say(said)["stage"] == stage


def test_a_question_that_changes_the_stage_is_not_called_one_it_cannot_answer(chat: Chat):
    chat.move_to("causes")
    reply = chat.say("Can we go back to my feelings?")
    assert reply["stage"] == "emotions"
    assert "cannot answer well here" not in reply["content"]


def test_someone_without_hope_is_offered_no_silver_lining(app: Flask, chat: Chat):
    from coach.guide.frameworks import frameworks

    refocusing = frameworks(app).stage("emotions").section("refocusing").items
    chat.say("Honestly I feel like giving up on the whole job search.")
    chat.say(YES)
    assert "hopelessness" in chat.record.emotions
    said = ["It still stings, honestly.", "It still stings, honestly."]
    said += ["I don't even know why I keep trying.", "Everything feels pointless lately."]
    replies = [chat.say(text)["content"] for text in said]
    for reply in replies:
        assert not any(f"**{item.name}" in reply for item in refocusing), reply


def test_asked_for_tips_where_what_to_do_is_the_step_the_coach_gives_some(chat: Chat):
    chat.move_to("improvement")
    reply = chat.say("Can you give me some tips for getting better at visual design?")
    assert "cannot answer well here" not in reply["content"]
    assert reply["content"].startswith("Here are a couple of ideas from the guide")
    items = re.findall(r"^\*\*[^*]+\.\*\*", reply["content"], re.MULTILINE)
    assert len(items) == 2


def test_asked_for_tips_before_that_step_says_when_they_come(chat: Chat):
    reply = chat.say("Any tips for what to do next?")
    assert "We will come to what to do next" in reply["content"]
