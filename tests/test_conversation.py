"""The conversation engine: stage exits, jumps, readiness and consent, and a guided
walk through all stages."""

from __future__ import annotations

import pytest

from coach.coaching.dialogue import MAX_TURNS_PER_STAGE
from coach.coaching.stages import requested_stage, stage_is_complete
from coach.guide.frameworks import STAGES, frameworks
from coach.guide.move import MOVE_ON, STAY_HERE, YES
from coach.guide.record import LikelyCause, ReflectionRecord
from tests.conversations import GUIDED_WALK


@pytest.mark.parametrize(
    ("stage", "record", "complete"),
    [
        ("emotions", ReflectionRecord(), False),
        ("emotions", ReflectionRecord(emotions=["anger"]), True),
        ("causes", ReflectionRecord(emotions=["anger"]), False),
        ("causes", ReflectionRecord(cause_unknown=True), True),
        (
            "causes",
            ReflectionRecord(likely_causes=[LikelyCause(cause="competition", evidence="x")]),
            True,
        ),
        ("improvement", ReflectionRecord(), False),
        ("improvement", ReflectionRecord(goals=["Take a course"]), True),
        ("resilience", ReflectionRecord(routine=["walk daily"]), False),
        ("resilience", ReflectionRecord(routine=["walk daily"], support=["my sister"]), True),
        ("plan", ReflectionRecord(goals=["a"], routine=["b"], support=["c"]), False),
    ],
)
def test_exit_criteria(stage, record, complete):
    assert stage_is_complete(stage, record) is complete


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        ("Can we look at my plan now?", "plan"),
        ("Let's talk about my feelings again", "emotions"),
        ("I want to figure out why they said no", "causes"),
        ("How do I stay motivated?", "resilience"),
        ("What should I learn next?", "improvement"),
        ("They said no on Monday.", None),
        ("The recruiter promised next steps, then the rejection came.", None),
        ("They asked about my plan for the first 90 days.", None),
        ("I'd rather not talk about my feelings.", None),
        ("Not my feelings, I want to figure out why it happened", "causes"),
        ("What went wrong? And how can I improve?", "improvement"),
        ("I don't want to talk about my feelings.", None),
        ("I can't talk about my feelings anymore.", None),
        ("I don't know what went wrong", None),  # a statement, not a request
        ("I have no idea why they rejected me", "causes"),
        ("No one will tell me what went wrong", None),
        ("Not sure how to improve", "improvement"),
    ],
)
def test_the_seeker_can_ask_for_a_stage(app, text, stage):
    assert requested_stage(text, frameworks(app)) == stage


def _stages(api, texts: list[str]) -> tuple[list[str], list[dict]]:
    token = api.guest()
    session_id = api.new_session(token)
    stages, replies = [], []
    for text in texts:
        response = api.send(token, session_id, text)
        assert response.status_code == 201
        stages.append(response.json["user_message"]["stage"])
        replies.append(response.json["reply"])
    return stages, replies


def test_a_guided_conversation_walks_all_stages(api):
    stages, replies = _stages(api, GUIDED_WALK)
    assert all(reply["content"].strip() for reply in replies)
    assert stages[0] == "emotions"
    assert stages[-1] == "plan"
    # Every stage is visited, in order.
    assert [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]] == list(STAGES)
    # Each change came on a turn where the seeker agreed to move on.
    changes = [GUIDED_WALK[i] for i in range(1, len(stages)) if stages[i] != stages[i - 1]]
    assert set(changes) == {MOVE_ON}


def test_a_cause_named_in_the_first_message_does_not_end_the_causes_stage(api):
    stages, replies = _stages(
        api,
        ["I'm gutted, they went with an internal candidate.", YES, MOVE_ON, "Hmm, let me think"],
    )
    assert stages == ["emotions", "emotions", "causes", "causes"]
    # The coach asked before it moved, and waited for the seeker's word.
    assert replies[1]["choices"] == [MOVE_ON, STAY_HERE]
    assert MOVE_ON not in replies[3]["choices"]


def test_a_ready_stage_asks_and_stays_until_the_seeker_agrees(api):
    texts = [
        "I feel so disappointed.",
        "It was a long process.",
        STAY_HERE,
        "ok then",
        "I see",
        "yes",
    ]
    stages, replies = _stages(api, texts)
    assert stages == ["emotions"] * 5 + ["causes"]
    assert MOVE_ON not in replies[0]["choices"]  # the seeker is heard first
    assert replies[1]["choices"] == [MOVE_ON, STAY_HERE]
    assert MOVE_ON not in replies[2]["choices"] + replies[3]["choices"]  # not again at once
    assert replies[4]["choices"] == [MOVE_ON, STAY_HERE]


def test_the_stage_cap_asks_rather_than_moves(api):
    texts = ["The weather was grey."] * MAX_TURNS_PER_STAGE
    stages, replies = _stages(api, texts)
    assert set(stages) == {"emotions"}
    assert replies[-1]["choices"] == [MOVE_ON, STAY_HERE]


def test_a_request_for_a_stage_is_honoured_at_once(api):
    stages, _ = _stages(api, ["Hello", "I want to figure out why they said no"])
    assert stages == ["emotions", "causes"]


def test_guided_replies_follow_the_cause_to_strategy_map(app, api):
    _stages_seen, replies = _stages(api, GUIDED_WALK[:6])
    reply = replies[-1]
    expected = [s.name for s in frameworks(app).strategies_for("competition")]
    assert all(name in reply["content"] for name in expected), reply["content"]
    assert frameworks(app).cause_label("competition").lower() in reply["content"].lower()
    # The goal options offered are the same strategies.
    assert [c for c in reply["choices"] if c in expected] == expected


def test_the_first_reply_to_the_news_is_sorry_about_it_once(api):
    """Not a plain "thank you" to someone who has just said they were turned down;
    and only once, on the first turn that reflects what they told."""
    sorry = "I am sorry the news was not what you hoped for."
    token = api.guest()
    session_id = api.new_session(token)
    greeted = api.send(token, session_id, "hi").json["reply"]["content"]
    told = api.send(token, session_id, "I didn't get the job after the final interview.")
    later = api.send(token, session_id, "They said the other candidate had more experience.")
    assert sorry not in greeted
    assert told.json["reply"]["content"].startswith(sorry)
    assert sorry not in later.json["reply"]["content"]


def test_a_first_message_that_names_a_feeling_is_sorry_and_reflects_it(api):
    token = api.guest()
    session_id = api.new_session(token)
    reply = api.send(token, session_id, "I'm gutted, they picked someone else.").json["reply"]
    first_paragraph = reply["content"].split("\n\n")[0]
    assert first_paragraph.startswith("I am sorry the news was not what you hoped for.")
    assert "disappointment" in first_paragraph
    assert first_paragraph.endswith("Is that right?")


def test_after_the_safety_rules_answered_no_sorry_about_the_news_follows(api):
    """The crisis answer was the coach's first word to the seeker; a line about the
    job news after it would read as if it had not been heard."""
    token = api.guest()
    session_id = api.new_session(token)
    said = "sometimes I think everyone would be better off without me"
    crisis = api.send(token, session_id, said)
    assert crisis.json["reply"]["safety"]["kind"] == "crisis"
    safe = api.send(token, session_id, "I'm safe now, thank you")
    assert safe.json["reply"]["safety"]["kind"] == "safe_again"
    after = api.send(token, session_id, "I didn't get the job after the final interview.")
    assert "safety" not in after.json["reply"]
    assert "sorry the news" not in after.json["reply"]["content"]
