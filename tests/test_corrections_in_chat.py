"""The record is the seeker's, and they can put it right in the chat: a feeling in
their own word is heard in two words, and taken back by that word or another form
of it, including "more X than Y"."""

from __future__ import annotations

import pytest
from flask import Flask

from coach.guide.move import YES
from tests.conftest import ApiActions
from tests.test_dialogue import Chat


@pytest.fixture
def embarrassed(app: Flask, api: ApiActions) -> Chat:
    chat = Chat(app, api)
    chat.say("They turned me down after the second interview.")
    heard = chat.say("I'm embarrassed.")
    assert "embarrassed" in heard["content"] and heard["choices"][0] == YES
    chat.say(YES)
    assert chat.record.emotions == ["embarrassed"]
    return chat


@pytest.mark.parametrize(
    "said",
    [
        "I'm not embarrassed.",
        "Please take embarrassed off the list.",
        "Remove the embarrassment, that's not it.",
    ],
)
def test_a_feeling_in_their_own_word_is_taken_back(embarrassed: Chat, said):
    reply = embarrassed.say(said)
    assert embarrassed.record.emotions == []
    assert "out of the record" in reply["content"]


def test_more_one_feeling_than_another_swaps_them(embarrassed: Chat):
    embarrassed.say("Actually it's more disappointment than embarrassment. Can you change that?")
    assert embarrassed.record.emotions == ["disappointment"]


def test_a_feeling_that_passed_stays_in_the_record(embarrassed: Chat):
    embarrassed.say("I'm not embarrassed anymore, just tired of it all.")
    assert "embarrassed" in embarrassed.record.emotions


@pytest.mark.parametrize(
    ("said", "named"),
    [
        ("I'm less embarrassed than disappointed", ["disappointment"]),
        ("I'm less disappointed than angry", ["disappointment", "anger or frustration"]),
        ("I feel nothing other than anger", ["anger or frustration"]),
    ],
)
def test_only_more_one_than_another_takes_the_second_back(app: Flask, said, named):
    from coach.coaching.proposals import named_entries
    from coach.guide.frameworks import frameworks

    assert named_entries(said, frameworks(app)).emotions == named


@pytest.mark.parametrize(
    "said", ["not my flatmate's fault", "no number to call", "Not tiresome, just long"]
)
def test_a_word_that_only_starts_like_a_feeling_takes_nothing_back(app: Flask, said):
    from coach.coaching.proposals import taken_back
    from coach.guide.frameworks import frameworks
    from coach.guide.record import ReflectionRecord

    record = ReflectionRecord(emotions=["flat", "numb", "tired"])
    assert taken_back(said, record, frameworks(app)).emotions == []


def test_a_cause_is_taken_back_by_its_everyday_name(app: Flask, api: ApiActions):
    chat = Chat(app, api)
    chat.move_to("causes")
    chat.say("Culture or team fit")
    assert [c.cause for c in chat.record.likely_causes] == ["culture_fit"]
    chat.say("Actually I don't think it was culture fit. Please take that off.")
    assert chat.record.likely_causes == []


@pytest.mark.parametrize(
    "said", ["I don't think it was a skills gap.", "It wasn't the competition, I'm sure."]
)
def test_a_cause_denied_by_its_everyday_name_is_not_recorded(app: Flask, api: ApiActions, said):
    chat = Chat(app, api)
    chat.move_to("causes")
    chat.say(said)
    assert chat.record.likely_causes == []


def test_a_known_feeling_of_two_words_is_proposed_whole(app: Flask, api: ApiActions):
    chat = Chat(app, api)
    chat.say("They turned me down after the second interview.")
    reply = chat.say("I'm just so burnt out after all of this.")
    assert "feeling burnt out" in reply["content"] and reply["choices"][0] == YES
    chat.say(YES)
    assert chat.record.emotions == ["burnt out"]
