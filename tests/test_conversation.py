"""The conversation engine: stage exits, jumps, and a guided walk through all stages."""

from __future__ import annotations

import pytest

from coach.coaching.stages import (
    MAX_TURNS_PER_STAGE,
    decide_stage,
    requested_stage,
    stage_is_complete,
)
from coach.guide.frameworks import STAGES, frameworks
from coach.guide.record import LikelyCause, ReflectionRecord
from coach.storage.models import CoachingSession
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
        ("I don't know what went wrong", "causes"),
        ("I have no idea why they rejected me", "causes"),
        ("No one will tell me what went wrong", "causes"),
        ("Not sure how to improve", "improvement"),
    ],
)
def test_the_seeker_can_ask_for_a_stage(app, text, stage):
    assert requested_stage(text, frameworks(app)) == stage


def _session(stage: str = "emotions", turns: int = 0) -> CoachingSession:
    return CoachingSession(stage=stage, stage_turns=turns)


def test_a_stage_is_not_left_before_the_coach_has_answered_in_it(app):
    session = _session()
    record = ReflectionRecord(emotions=["anger"])
    decision = decide_stage(session, record, "I'm angry", frameworks(app))
    assert decision.stage == "emotions"
    assert session.stage_turns == 1


def test_a_complete_stage_moves_on_once_answered(app):
    session = _session(turns=1)
    decision = decide_stage(session, ReflectionRecord(emotions=["anger"]), "yes", frameworks(app))
    assert (decision.stage, decision.changed, decision.requested) == ("causes", True, False)
    assert session.stage_turns == 1


def test_an_incomplete_stage_stays(app):
    session = _session(turns=2)
    assert decide_stage(session, ReflectionRecord(), "hmm", frameworks(app)).stage == "emotions"
    assert session.stage_turns == 3


def test_a_stage_that_has_run_long_enough_moves_on(app):
    session = _session(turns=MAX_TURNS_PER_STAGE)
    assert decide_stage(session, ReflectionRecord(), "hmm", frameworks(app)).stage == "causes"


def test_a_request_wins_over_the_exit_rules(app):
    session = _session(stage="causes", turns=1)
    decision = decide_stage(session, ReflectionRecord(), "let's do my plan", frameworks(app))
    assert (decision.stage, decision.requested) == ("plan", True)


def test_asking_for_the_current_stage_stays_in_it(app):
    session = _session(stage="causes", turns=2)
    record = ReflectionRecord(cause_unknown=True)
    decision = decide_stage(session, record, "I still want to figure out why", frameworks(app))
    assert (decision.stage, decision.changed) == ("causes", False)


def test_going_back_to_a_finished_stage_stays_there_for_a_turn(app):
    session = _session(stage="improvement", turns=2)
    record = ReflectionRecord(emotions=["anger"])
    decide_stage(session, record, "I need to vent about my feelings", frameworks(app))
    assert session.stage == "emotions"
    assert decide_stage(session, record, "ok", frameworks(app)).stage == "causes"


def test_a_guided_conversation_walks_all_stages(api):
    token = api.guest()
    session_id = api.new_session(token)
    stages = []
    for text in GUIDED_WALK:
        response = api.send(token, session_id, text)
        assert response.status_code == 201
        stages.append(response.json["user_message"]["stage"])
        assert response.json["reply"]["content"].strip()
    assert stages[0] == "emotions"
    assert stages[-1] == "plan"
    # Every stage is visited, in order.
    assert [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]] == list(STAGES)


def test_guided_replies_follow_the_cause_to_strategy_map(app, api):
    token = api.guest()
    session_id = api.new_session(token)
    for text in GUIDED_WALK[:4]:
        reply = api.send(token, session_id, text).json["reply"]["content"]
    expected = [s.name for s in frameworks(app).strategies_for("competition")]
    assert any(name in reply for name in expected), reply
