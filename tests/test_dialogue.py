"""The dialogue over the API in guided mode: propose, confirm, record; requests
honoured in the same turn; fragments; other languages; and no reply that opens by
quoting the seeker."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from coach.coaching.offers import choose_offers
from coach.guide.frameworks import frameworks
from coach.guide.move import MAKE_PLAN, MOVE_ON, NOT_QUITE, STAY_HERE, TAKE_BREAK, YES
from coach.guide.record import ReflectionRecord
from coach.storage.database import database
from coach.storage.models import CoachingSession
from tests.conftest import ApiActions

QUOTE_RUN = 5
CRISIS = "honestly sometimes I think everyone would be better off without me"


class Chat:
    """One guided conversation, turn by turn."""

    def __init__(self, app: Flask, api: ApiActions) -> None:
        self.app, self.api = app, api
        self.token = api.guest()
        self.session_id = api.new_session(self.token)

    def say(self, text: str) -> dict[str, Any]:
        response = self.api.send(self.token, self.session_id, text)
        assert response.status_code == 201, response.json
        return {
            "stage": response.json["user_message"]["stage"],
            "content": response.json["reply"]["content"],
            "choices": response.json["reply"]["choices"],
        }

    def move_to(self, stage: str) -> None:
        """Set the conversation's stage, as the page's stage control does."""
        moved = self.api.client.patch(
            f"/api/v1/sessions/{self.session_id}",
            json={"stage": stage},
            headers=self.api.headers(self.token),
        )
        assert moved.status_code == 200, moved.json

    @property
    def record(self) -> ReflectionRecord:
        with database(self.app).make_session() as db:
            stored = db.get_one(CoachingSession, self.session_id)
            return ReflectionRecord.model_validate(stored.reflection)


@pytest.fixture
def chat(app: Flask, api: ApiActions) -> Chat:
    return Chat(app, api)


def first_sentence(reply: str) -> str:
    return re.split(r"(?<=[.!?])\s+|\n", reply.strip(), maxsplit=1)[0]


def opens_with_quote(reply: str, said: str) -> bool:
    opening = first_sentence(reply)
    if opening[:1] in "\"'\u201c\u2018>":
        return True
    words = re.findall(r"[a-z']+", said.lower())
    shown = " " + " ".join(re.findall(r"[a-z']+", opening.lower())) + " "
    runs = (words[i : i + QUOTE_RUN] for i in range(len(words) - QUOTE_RUN + 1))
    return any(f" {' '.join(run)} " in shown for run in runs)


# Propose, confirm, record ------------------------------------------------------------


def test_proposals_wait_for_the_seeker_to_confirm(chat):
    reply = chat.say("Honestly I'm gutted about it.")
    assert reply["choices"] == [YES, NOT_QUITE]
    assert "disappointment" in reply["content"].lower()
    assert chat.record.emotions == []
    chat.say(YES)
    assert chat.record.emotions == ["disappointment"]


def test_not_quite_drops_the_proposal_and_asks_what_fits(app, chat):
    chat.say("Honestly I'm gutted about it.")
    reply = chat.say(NOT_QUITE)
    assert chat.record.emotions == []
    assert "Relief" in reply["choices"] and "Self-doubt" in reply["choices"]
    chat.say("Relief")
    assert chat.record.emotions == ["relief"]


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        ("Mostly the anger, to be honest", ["anger or frustration"]),
        ("Yes, but not the anger", ["disappointment"]),
    ],
)
def test_a_partial_answer_keeps_what_the_seeker_named(chat, answer, kept):
    reply = chat.say("I'm gutted and furious.")
    assert reply["choices"] == [YES, NOT_QUITE]
    chat.say(answer)
    assert chat.record.emotions == kept


@pytest.mark.parametrize("said", ["I feel rotten about the whole thing.", "Honestly I feel awful."])
def test_a_feeling_in_the_seekers_own_word_is_reflected_in_a_sentence_that_reads(chat, said):
    reply = chat.say(said)["content"]
    word = said.split("feel ")[1].split()[0].strip(".")
    assert f"feeling {word}" in reply
    # "It sounds like feeling awful." was the old wording.
    # And what it is about, in the coach's words.
    pattern = rf"(dealing with|comes through is|I am hearing is) feeling {word} after this news\."
    assert re.search(pattern, reply)


def test_a_yes_that_names_more_feelings_keeps_them_too(chat):
    reply = chat.say("Honestly I'm gutted about it.")
    assert reply["choices"] == [YES, NOT_QUITE]
    chat.say("Yes, mostly that, and some anger too.")
    assert chat.record.emotions == ["disappointment", "anger or frustration"]


def test_a_guessed_cause_gets_no_strategy_until_the_seeker_confirms_it(app, chat):
    chat.say("They turned me down after the second interview and I'm gutted.")
    chat.say(YES)
    assert chat.say("Let's move on")["stage"] == "causes"

    # "technical" makes the courses relevant, but the cause is only a guess so far.
    reply = chat.say("I think I was too nervous in the technical part.")

    assert reply["choices"] == [YES, NOT_QUITE]
    assert chat.record.likely_causes == []
    improvement = frameworks(app).stage("improvement")
    strategies = [item.name for section in improvement.sections for item in section.items]
    assert [name for name in strategies if name in reply["content"]] == []


def test_employer_feedback_is_recorded_and_outranks_a_guess_of_competition(chat):
    chat.say("They said no.")
    reply = chat.say(
        "The feedback said I lacked technical skills, and they went with another candidate."
    )
    record = chat.record
    assert record.feedback  # the seeker's report, recorded at once
    assert record.likely_causes == []  # the cause waits for the seeker
    assert "**skills or experience gap**" in reply["content"]
    assert "strong competition" not in reply["content"].lower()
    chat.say(YES)
    assert [c.cause for c in chat.record.likely_causes] == ["skills_gap"]


@pytest.mark.parametrize("text", ["Hi", "Hello there", "Are you even listening?", "Who are you?"])
def test_greetings_and_questions_to_the_coach_are_not_content(chat, text):
    reply = chat.say(text)
    assert chat.record.is_empty()
    # Nothing is checked with the seeker (the question what they felt may offer the
    # feelings to pick from).
    assert YES not in reply["choices"] and NOT_QUITE not in reply["choices"]
    assert not opens_with_quote(reply["content"], text)


# Requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Can you just write the plan out for me with dates?",
        "I need concrete next steps for the next 4 weeks",
        "write my plan",
        "just write me a plan",
        "I want a plan, not more questions",
        MAKE_PLAN,
    ],
)
def test_a_plan_request_reaches_the_plan_in_the_same_turn(chat, text):
    chat.say("I feel flat about it all.")
    reply = chat.say(text)
    assert reply["stage"] == "plan"
    # The plan itself, written and stored on this turn, not a recap that asks again.
    assert f"[Open your plan](/chat/{chat.session_id}/plan?version=1)" in reply["content"]
    assert "guarantee" in reply["content"]


@pytest.mark.parametrize(
    "text",
    [
        "Can you help me reply to the recruiter?",
        "How do I answer the email they sent?",
        "help me respond to the recruiter",
    ],
)
def test_a_recruiter_request_gets_a_polite_draft(chat, text):
    before = chat.say("They turned me down yesterday.")["stage"]
    reply = chat.say(text)
    quoted = "\n".join(x for x in reply["content"].splitlines() if x.startswith("> "))
    assert "thank" in quoted.lower() and "feedback" in quoted.lower()
    assert "close a door" in reply["content"]
    assert reply["stage"] == before


@pytest.mark.parametrize("text", ["I need a break", TAKE_BREAK, "Can we stop for now?"])
def test_a_break_closes_warmly_and_keeps_the_stage(chat, text):
    chat.say("I'm gutted.")
    chat.say(YES)
    reply = chat.say(text)
    assert "kept" in reply["content"]
    assert reply["stage"] == "emotions"
    assert reply["choices"] == []


@pytest.mark.parametrize("text", ["idk", "fine", "whatever", "meh"])
def test_fragments_get_a_shorter_turn_with_choices(chat, text):
    normal = chat.say("It was a long process with four rounds.")
    reply = chat.say(text)
    assert TAKE_BREAK in reply["choices"] and len(reply["choices"]) > 1
    assert "pause" in reply["content"]
    assert len(reply["content"]) < len(normal["content"]) + 200
    assert chat.record.is_empty()


UNSURE = [
    "not sure",
    "no idea",
    "I don't know",
    "Hmm, not sure yet",
    "maybe",
    "honestly no idea",
    "I really don't know, sorry",
]


@pytest.mark.parametrize("text", UNSURE)
def test_not_knowing_neither_confirms_nor_denies_a_proposal(chat, text):
    # "sure" in "not sure" agrees with nothing, "no" in "no idea" denies nothing.
    chat.say("Honestly I'm gutted about it.")
    reply = chat.say(text)
    assert chat.record.is_empty()
    assert "putting me right" not in reply["content"]
    assert "Disappointment" in reply["choices"] and TAKE_BREAK in reply["choices"]


@pytest.mark.parametrize("text", UNSURE)
def test_not_knowing_about_feelings_is_not_read_as_a_cause(chat, text):
    chat.say("rejected")
    reply = chat.say(text)
    assert chat.record.is_empty() and not chat.record.cause_unknown
    assert "reason" not in reply["content"]


# Stages by consent --------------------------------------------------------------------


def test_moving_on_needs_consent_and_stay_here_stays(chat):
    chat.say("I'm gutted.")
    asked = chat.say(YES)
    assert asked["choices"] == [MOVE_ON, STAY_HERE]
    assert asked["stage"] == "emotions"
    stages = [chat.say(t)["stage"] for t in ["It's been a rough week.", STAY_HERE, "Let's move on"]]
    assert stages == ["emotions", "emotions", "causes"]


@pytest.mark.parametrize("text", UNSURE)
def test_not_knowing_whether_to_move_on_stays(chat, text):
    chat.say("I'm gutted.")
    assert chat.say(YES)["choices"] == [MOVE_ON, STAY_HERE]
    reply = chat.say(text)
    assert reply["stage"] == "emotions"
    # Said so, and asked on: not the feelings to pick from as if nothing had been asked.
    assert reply["content"].startswith("Of course, we can stay here")
    assert reply["choices"] == []


@pytest.mark.parametrize("text", UNSURE)
def test_not_knowing_what_played_a_part_is_checked_as_an_unclear_reason(chat, text):
    """Asked about causes, "no idea" answers the question: it is not a fragment to be
    offered causes for, which would ask the seeker to guess."""
    chat.say("I didn't get the job after the final interview.")
    moved = chat.api.client.patch(
        f"/api/v1/sessions/{chat.session_id}",
        headers=chat.api.headers(chat.token),
        json={"stage": "causes"},
    )
    assert moved.status_code == 200
    reply = chat.say(text)
    assert first_sentence(reply["content"]) == (
        "It sounds as if the reason has not been made clear to you yet."
    )
    assert reply["choices"] == [YES, NOT_QUITE]
    chat.say(YES)
    assert chat.record.cause_unknown and not chat.record.likely_causes


def test_yes_to_the_move_on_question_moves_on(chat):
    """The question came with the stage's summary; the step that follows does not say
    it again."""
    summary = "Here is what we found about how you feel: disappointment."
    chat.say("I'm gutted.")
    asked = chat.say(YES)
    assert asked["choices"] == [MOVE_ON, STAY_HERE] and summary in asked["content"]
    reply = chat.say("yes")
    assert reply["stage"] == "causes"
    assert summary not in reply["content"] and "**Causes**" in reply["content"]


def test_a_stage_left_unasked_is_summarised_on_the_way(chat):
    chat.say("I'm gutted.")
    chat.say(YES)
    chat.say(STAY_HERE)
    reply = chat.say("I want to figure out what went wrong.")
    assert reply["stage"] == "causes"
    assert "Here is what we found about how you feel: disappointment." in reply["content"]


# Language ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Hola, estoy muy triste porque no me dieron el trabajo.", "es"),
        ("Bonjour, je suis très déçu, je n'ai pas eu le poste.", "fr"),
        ("Ich bin sehr enttäuscht, ich habe die Stelle nicht bekommen.", "de"),
        ("Estou muito triste porque não consegui a vaga.", "pt"),
        ("Sono molto triste perché non ho avuto il lavoro.", "it"),
    ],
)
def test_another_language_gets_a_fixed_line_and_no_record(app, chat, text, code):
    data = tomllib.loads((Path(app.config["COACH_PROMPTS_DIR"]) / "guided.toml").read_text())
    reply = chat.say(text)
    assert data["languages"][code]["line"] in reply["content"]
    assert chat.record.is_empty()
    assert reply["stage"] == "emotions"


# No echoes -------------------------------------------------------------------------------

VARIED = [
    "I was so sure I had it after the second interview with the whole team.",
    "Are you even listening to what I am saying to you?",
    "idk",
    "They said I was a great culture fit but they went with someone else.",
    "The feedback said my SQL window functions were not strong enough for the role.",
    "I have been a teacher for twelve years and I am trying to change careers.",
    "I can't sleep and I'm worried about money since the rejection came in.",
    "Yes, that's right",
    "Not quite",
    "whatever",
    "Honestly I think I just rambled through the whole presentation part of it.",
    "Every morning I will go for a walk before I start applying again.",
    "My old manager said she would be happy to be a mentor for me.",
    "Move on",
    "I want to get better at explaining my work to people outside my field.",
]


def test_no_reply_opens_by_quoting_the_seeker(chat):
    for text in VARIED:
        reply = chat.say(text)
        assert not opens_with_quote(reply["content"], text), (text, reply["content"])
        assert not reply["content"].lstrip().startswith(('"', "“", "'"))


def test_the_quote_check_itself_catches_an_echo():
    said = "I was so sure I had it after the second interview."
    assert opens_with_quote("You said I was so sure I had it. Thank you.", said)
    assert opens_with_quote("“Fine.” That is worth taking seriously.", "Fine.")
    assert not opens_with_quote("It sounds like disappointment. Is that right?", said)


# Choices in the API -----------------------------------------------------------------------


def test_choices_are_stored_with_the_reply_and_shown_with_the_session(api, chat):
    chat.say("Honestly I'm gutted about it.")
    messages = api.session(chat.token, chat.session_id)["messages"]
    assert [m["choices"] for m in messages] == [[], [YES, NOT_QUITE]]
    assert 'aria-label="Quick replies"' in messages[1]["html"]
    assert messages[1]["html"].count("<button") == 2


def test_a_safety_reply_carries_no_choices(api, chat):
    chat.say("Honestly I'm gutted about it.")
    response = api.send(chat.token, chat.session_id, CRISIS)
    assert response.json["reply"]["safety"]["kind"] == "crisis"
    assert response.json["reply"]["choices"] == []
    # The question asked before the crisis is not answered by the next message.
    chat.say(YES)
    assert chat.record.emotions == []


@pytest.mark.parametrize("text", ["honestly no idea", "Um, I really don't know yet"])
def test_not_knowing_with_fillers_is_a_fragment_not_news(chat, text):
    """ "Honestly" adds nothing to "no idea": the short turn with choices, not a
    "that gives me a clearer picture" for something never said."""
    chat.say("I didn't get the job after the final interview.")
    reply = chat.say(text)
    assert "Disappointment" in reply["choices"] and TAKE_BREAK in reply["choices"]
    assert "clearer picture" not in reply["content"]
    assert "useful to know" not in reply["content"]


def test_an_answer_after_fillers_still_opens_the_message(chat):
    chat.say("I'm gutted.")
    reply = chat.say("Honestly yes, that is exactly it, and it has been a long week of it.")
    assert "disappointment" in {e.lower() for e in chat.record.emotions}
    assert reply["choices"] == [MOVE_ON, STAY_HERE] or "noted" in reply["content"]


# Offers --------------------------------------------------------------------------------


def test_the_first_reply_to_the_news_offers_no_advice(chat):
    """Sorry, what they achieved, and a question: nothing of the guide's advice yet."""
    reply = chat.say("I was rejected after the final round for a product manager role.")
    assert reply["content"].startswith("I am sorry the news was not what you hoped for.")
    assert "**" not in reply["content"]  # an offered item is shown by its bold name


def test_looking_ahead_waits_until_a_feeling_is_named(app):
    """The guide's emotions framework: let the feelings in first, then refocus (new
    goals, the network) once one is named."""
    found = frameworks(app)
    chosen = {
        named: {
            ref
            for seed in range(60)
            for ref in choose_offers(
                found,
                "emotions",
                relevant=(),
                record=ReflectionRecord(emotions=["disappointment"] if named else []),
                shown=[],
                seed=str(seed),
            )
        }
        for named in (False, True)
    }
    assert chosen[False] and all(ref.startswith("emotions/processing/") for ref in chosen[False])
    assert any(ref.startswith("emotions/refocusing/") for ref in chosen[True])


# Questions about what comes later -------------------------------------------------------


def test_asking_why_first_is_told_when_and_not_given_a_guess(chat):
    reply = chat.say("why didn't I get the job?")
    assert reply["stage"] == "emotions"
    assert reply["content"].startswith(
        "I am sorry the news was not what you hoped for. Only the employer knows for sure"
    )
    assert "**" not in reply["content"]  # no cause, no advice
    assert chat.record.is_empty()


@pytest.mark.parametrize("text", ["what should I do now?", "what now?"])
def test_asking_what_to_do_before_the_causes_is_told_when(chat, text):
    chat.say("I didn't get the job after the final interview.")
    reply = chat.say(text)
    assert reply["stage"] == "emotions"
    assert reply["content"].startswith("We will come to what to do next")
    assert reply["choices"] == []  # a question answered, not a fragment


def test_asking_why_once_a_feeling_is_named_moves_to_the_causes(chat):
    chat.say("I'm gutted.")
    chat.say(YES)
    assert chat.say("what did I do wrong, I keep asking myself")["stage"] == "causes"


def test_asking_what_to_do_once_a_cause_is_found_moves_to_improvement(app, chat):
    moved = chat.api.client.patch(
        f"/api/v1/sessions/{chat.session_id}",
        headers=chat.api.headers(chat.token),
        json={"stage": "causes"},
    )
    assert moved.status_code == 200
    chat.say("They said my SQL was weak.")
    chat.say(YES)
    assert chat.say("so what should I do now?")["stage"] == "improvement"


# Requests in ordinary words, corrections, and what a turn offers -----------------------

BREAK_LINE = "Of course, let's take a break."


@pytest.mark.parametrize(
    "text",
    [
        "I want to stop for today.",
        "Can we stop here?",
        "I'm done for now, bye",
        "stop",
        "Pause, please.",
        "bye",
    ],
)
def test_a_break_asked_for_in_ordinary_words_is_honoured(chat, text):
    chat.say("They went with an internal candidate and I feel gutted.")
    reply = chat.say(text)
    assert reply["content"].startswith(BREAK_LINE)
    assert reply["choices"] == []


def test_stop_inside_a_sentence_is_no_break(chat):
    reply = chat.say("I can't stop crying since they told me.")
    assert not reply["content"].startswith(BREAK_LINE)


@pytest.mark.parametrize("text", ["my plan", "My plan, please.", "plan"])
def test_my_plan_on_its_own_writes_the_plan(chat, text):
    chat.say("They went with an internal candidate and I feel gutted.")
    reply = chat.say(text)
    assert "Open your plan" in reply["content"]


def test_my_plan_inside_a_sentence_is_news(chat):
    chat.say("They went with an internal candidate and I feel gutted.")
    reply = chat.say("My plan was to stay there for years and grow into the team lead role.")
    assert "Open your plan" not in reply["content"]


def test_help_me_reply_drafts_the_reply(chat):
    chat.say("They went with an internal candidate and I feel gutted.")
    reply = chat.say("help me reply")
    assert "Here is a short, polite reply you could send" in reply["content"]


@pytest.mark.parametrize(
    "correction",
    [
        "no, I'm not angry, I'm embarrassed",
        "Please remove anger from the record. I feel embarrassed.",
    ],
)
def test_a_feeling_taken_back_leaves_the_record_and_the_rest_is_heard(chat, correction):
    chat.say("I bombed the second interview and I'm so mad at myself.")
    chat.say(YES)
    assert chat.record.emotions == ["anger or frustration"]
    reply = chat.say(correction)
    assert chat.record.emotions == []
    assert "I have taken anger or frustration out of the record." in reply["content"]
    assert "embarrassed" in reply["content"] and reply["content"].endswith("Is that right?")
    assert reply["choices"] == [YES, NOT_QUITE]


def test_a_feeling_that_has_passed_stays_in_the_record(chat):
    chat.say("I bombed the second interview and I'm so mad at myself.")
    chat.say(YES)
    reply = chat.say("I'm not angry anymore, mostly I just feel tired of it all.")
    assert chat.record.emotions == ["anger or frustration"]
    assert "out of the record" not in reply["content"]


def test_no_after_the_move_on_question_still_hears_what_follows(chat):
    chat.say("I feel so disappointed, I really wanted this one.")
    reply = chat.say("I keep going over it in my head, it still hurts a lot.")
    assert reply["choices"] == [MOVE_ON, STAY_HERE]
    reply = chat.say("No, not yet. Honestly I'm also relieved I won't have that commute.")
    assert reply["content"].startswith("Of course, we can stay here")
    assert "I have noted relief" in reply["content"]
    assert chat.record.emotions == ["disappointment", "relief"]
    reply = chat.say("I think it's more that I feel embarrassed in front of my old team.")
    assert reply["choices"] == [YES, NOT_QUITE]
    reply = chat.say("No, not quite. Mostly it is self-doubt, if I'm honest with myself.")
    assert "self-doubt" in reply["content"]
    assert "self-doubt" in chat.record.emotions


def test_thanks_in_the_middle_is_welcomed_not_greeted(chat):
    chat.say("They went with an internal candidate and I feel gutted.")
    reply = chat.say("thanks")
    assert reply["content"].startswith("You are welcome.")
    assert "Hello, and welcome" not in reply["content"]


def test_hello_after_a_pause_is_welcome_back(chat):
    chat.say("They went with an internal candidate and I feel gutted.")
    chat.say("I need a break")
    for text in ("hi", "I'm back"):
        reply = chat.say(text)
        assert reply["content"].startswith("Welcome back.")


def test_a_named_feeling_is_not_asked_for_again(chat):
    reply = chat.say("I was rejected after my second interview. I feel disappointed.")
    assert reply["content"].startswith("I am sorry the news was not what you hoped for.")
    assert "I have noted disappointment" in reply["content"]
    assert "what was the very first thing you felt" not in reply["content"]


def test_a_turn_that_checks_what_it_heard_ends_on_the_check(chat):
    reply = chat.say("I bombed the second interview and I'm so mad at myself.")
    assert "second interview is a real achievement" in reply["content"]  # an affirmation too
    assert reply["content"].endswith("Is that right?")
    assert "**" not in reply["content"]  # and no advice beside the question


@pytest.mark.parametrize("stage", ["emotions", "causes"])
def test_no_advice_on_what_to_do_before_the_seeker_goes_there(app, stage):
    """What to do about a cause (the improvement stage's items) waits until the
    seeker has chosen to go there, whatever the message or the record suggests."""
    found = frameworks(app)
    record = ReflectionRecord(
        emotions=["disappointment"],
        likely_causes=[{"cause": "skills_gap", "evidence": "They said my SQL was weak."}],
    )
    offered = {
        ref
        for seed in range(40)
        for ref in choose_offers(
            found,
            stage,
            relevant=(),
            record=record,
            shown=[],
            seed=str(seed),
            count=3,
        )
    }
    assert offered and not any(ref.startswith("improvement/") for ref in offered)
    in_improvement = choose_offers(
        found, "improvement", relevant=(), record=record, shown=[], seed="x", count=3
    )
    assert any(ref.startswith("improvement/") for ref in in_improvement)


def test_a_skill_mentioned_early_brings_no_course_yet(chat):
    chat.say("I feel disappointed, it was my dream job.")
    reply = chat.say("Honestly the technical round on SQL went badly and I froze.")
    offered_names = re.findall(r"\*\*([^*]+?)\.?\*\*", reply["content"])
    improvement = frameworks(chat.app).stage("improvement")
    names = {item.name for section in improvement.sections for item in section.items}
    assert not names.intersection(offered_names)


def test_fragments_in_a_row_are_met_with_different_words_and_the_news_with_sorry(chat):
    replies = [chat.say(text)["content"] for text in ("got rejected", "bad", "ok", "idk")]
    assert replies[0].startswith("I am sorry the news was not what you hoped for.")
    openings = [reply.split("\n\n")[0].removeprefix(SORRY).strip() for reply in replies]
    assert len(set(openings)) == len(openings)


SORRY = "I am sorry the news was not what you hoped for."


def test_consent_after_i_think_moves_on(chat):
    chat.say("I'm gutted.")
    assert chat.say(YES)["choices"] == [MOVE_ON, STAY_HERE]
    assert chat.say("I think I'm ready to move on now.")["stage"] == "causes"


def test_a_question_guided_mode_cannot_answer_is_said_so(chat):
    chat.say("They went with an internal candidate and I feel gutted.")
    reply = chat.say("By the way, what's the best laptop for programming?")
    assert reply["content"].startswith("That is a fair question, and one I cannot answer well")
    assert "useful to know" not in reply["content"] and "**" not in reply["content"]
    assert reply["content"].rstrip().endswith("?")  # and the step's question follows


def test_a_question_with_news_in_it_is_heard_as_news(chat):
    reply = chat.say("I feel so disappointed, why does this keep happening to me?")
    assert "cannot answer" not in reply["content"]
    assert "disappointment" in reply["content"]


def test_what_a_checked_message_makes_relevant_is_offered_after_the_check(chat):
    """A turn that checks what it heard asks only that; the guide's item for what the
    message raised (a friend to lean on: staying motivated) comes on the next turn."""
    chat.move_to("resilience")
    checked = chat.say("I go to the gym and vent to my friend Sam.")
    assert checked["choices"] == [YES, NOT_QUITE]
    # No item of the guide (a paragraph opening with its bold name), only the check.
    assert not re.search(r"^\*\*[^*]+\.\*\*", checked["content"], re.MULTILINE)
    assert checked["content"].endswith("Is that right?")
    after = chat.say(YES)
    motivation = frameworks(chat.app).stage("resilience").section("motivation")
    assert any(f"**{item.name}" in after["content"] for item in motivation.items)


@pytest.mark.parametrize(
    "said",
    [
        "They said I was overqualified for the role.",
        "They said my SQL was weak.",
        "They went with an internal candidate.",
        "I rambled and froze in the interview.",
    ],
)
def test_entering_improvement_names_each_strategy_once(chat, said):
    chat.move_to("causes")
    chat.say(said)
    chat.say(YES)
    reply = chat.say("Let's move on to improvement")
    assert reply["stage"] == "improvement"
    names = [n.rstrip(".").lower() for n in re.findall(r"\*\*([^*]+)\*\*", reply["content"])]
    assert len(names) == len(set(names)), names


@pytest.mark.parametrize(
    "text", ["Can I see my plan?", "Can we skip to the plan?", "Let's do the plan."]
)
def test_asking_to_see_the_plan_writes_it(chat, text):
    chat.say("They went with an internal candidate and I feel gutted.")
    assert "Open your plan" in chat.say(text)["content"]


def test_moving_on_asked_for_after_another_sentence_moves_on(chat):
    chat.say("I feel gutted.")
    chat.say(YES)
    assert chat.say("I just told you. Let's move on to causes.")["stage"] == "causes"


def test_needing_to_vent_keeps_the_stage(chat):
    chat.move_to("resilience")
    reply = chat.say("I run every morning before work. My sister Ana listens when I need to vent.")
    assert reply["stage"] == "resilience" and reply["choices"] == [YES, NOT_QUITE]


def test_what_is_taken_back_is_not_proposed_in_the_same_reply(chat):
    chat.say("I feel angry.")
    chat.say(YES)
    reply = chat.say("Actually not angry, more disappointed in myself. Please take anger out.")
    assert "taken anger or frustration out of the record" in reply["content"]
    assert reply["content"].count("anger") == 1
    assert chat.record.emotions == ["disappointment"]


def test_a_cause_and_an_unknown_reason_are_not_proposed_together(chat):
    chat.move_to("causes")
    reply = chat.say(
        "This time it was an internal candidate, so I guess there was nothing I could do. "
        "The others never gave a reason."
    )
    assert "strong competition" in reply["content"]
    assert "not been made clear" not in reply["content"]


def test_asking_whether_it_is_normal_is_answered(chat):
    reply = chat.say("Is it normal to feel this way after just one rejection?")
    assert "Yes, it is normal." in reply["content"]
    assert "cannot answer" not in reply["content"]
    reply = chat.say("Is it normal that I keep thinking about it?")
    assert reply["content"].split("\n\n")[0] == (
        "Yes, it is normal. Feelings like these are common after a rejection this close "
        "to the finish, and they make sense."
    )
    reply = chat.say("I feel so embarrassed, is that normal?")
    assert "Yes, it is normal." in reply["content"] and "embarrassed" in reply["content"]
    assert reply["choices"] == [YES, NOT_QUITE]


def test_a_cause_two_sentences_point_to_is_proposed_once_with_the_employers_words(chat):
    chat.move_to("causes")
    reply = chat.say(
        "I think they wanted someone with more Python experience. "
        "The recruiter said my SQL skills were weaker than others."
    )
    assert reply["content"].count("skills or experience gap") == 1
    chat.say(YES)
    causes = chat.record.likely_causes
    assert [c.cause for c in causes] == ["skills_gap"]
    assert causes[0].evidence == "The recruiter said my SQL skills were weaker than others."


def test_no_tips_after_the_seeker_asks_only_to_be_heard_until_they_ask_what_to_do(chat):
    chat.say("They turned me down and I'm gutted.")
    chat.say(YES)
    reply = chat.say("Please stop giving me tips, I just want to vent for a minute.")
    assert reply["content"].startswith("Of course, no more tips. I am listening")
    # An item of the guide is offered as a paragraph that opens with its bold name.
    offered = re.compile(r"^\*\*[^*]+(\.\*\*|\*\* rather than)", re.MULTILINE)
    for said in (
        "It was my dream job and I had told everyone about it.",
        "I keep thinking about the panel and the silence after my answer.",
        "Stay here",
    ):
        assert not offered.search(chat.say(said)["content"]), said
    chat.say("So what should I do now?")  # what to do is wanted again
    assert offered.search(chat.say("Let's move on")["content"])


def test_going_straight_to_the_plan_writes_it(chat):
    chat.say("They went with an internal candidate and I feel gutted.")
    assert "Open your plan" in chat.say("Let's go straight to my plan.")["content"]


def test_obviously_yes_is_a_yes(chat):
    chat.say("I'm gutted.")
    reply = chat.say("Obviously yes. Why do you keep asking?")
    assert chat.record.emotions == ["disappointment"], reply["content"]


def test_relief_gets_no_sorry_and_not_only_adds_rather_than_takes_back(chat):
    first = chat.say("Honestly I'm a bit relieved, the commute would have been awful.")
    assert "I am sorry" not in first["content"] and "**" not in first["content"]
    assert chat.record.emotions == ["relief"]
    chat.say("not only relief. I'm also annoyed they took three weeks to tell me.")
    assert "relief" in chat.record.emotions  # not taken out of the record


def test_an_affirmation_is_said_once_a_conversation(chat):
    replies = [
        chat.say(text)["content"]
        for text in (
            "I was turned down after the second interview and I'm gutted.",
            "Yes, that's right",
            "The second interview was with the whole team and went on for two hours.",
        )
    ]
    assert sum("second interview is a real achievement" in reply for reply in replies) == 1


def test_asking_what_to_do_as_a_step_ends_is_told_when_then_asked_to_move_on(chat):
    chat.say("I feel gutted.")
    chat.say(YES)
    chat.say(STAY_HERE)
    chat.say("It was my dream job.")
    reply = chat.say("what should I do now?")
    assert reply["content"].startswith("We will come to what to do next")
    assert "put that into words" not in reply["content"]
    assert reply["choices"] == [MOVE_ON, STAY_HERE]
