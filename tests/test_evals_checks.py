"""The suite's checks of issue 9 (`coach.quality.suite_checks`) on hand-made
transcripts: each one passes a good exchange and fails a bad one, so that none of
them is a check that cannot fail."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from coach.guide.frameworks import Frameworks
from coach.quality.cases import Conversation
from coach.quality.cassettes import Call
from coach.quality.replay import Served
from coach.quality.suite_checks import (
    Context,
    acknowledges_first,
    blames,
    consistency,
    grounding,
    mentions,
    plan_problem,
    routing,
    safety,
    tone,
)
from coach.quality.transcripts import Exchange, Transcript
from coach.resources import resource_dir
from coach.safety.output_guard import OutputGuard

PROMPTS = resource_dir("prompts")
TODAY = date(2026, 3, 2)


@pytest.fixture(scope="module")
def loaded() -> Frameworks:
    return Frameworks.load(PROMPTS)


@pytest.fixture(scope="module")
def guard() -> OutputGuard:
    return OutputGuard.load(PROMPTS)


def case(**fields: Any) -> Conversation:
    data: dict[str, Any] = {
        "name": "hand_made",
        "title": "Hand-made",
        "who": "Written for the tests.",
        "route": ["emotions"],
        "turns": [{"say": "one"}, {"say": "two"}],
    }
    return Conversation.model_validate(data | fields)


def reply_served(text: str, system: str = "", unsafe: str | None = None) -> Served:
    body = {"messages": [{"role": "system", "content": system}, {"role": "user", "content": "x"}]}
    return Served("hand_made", 1, "reply", body, Call(1, "reply", "k", text, unsafe=unsafe))


def exchange(reply: str, stage: str = "emotions", **fields: Any) -> Exchange:
    return Exchange(said="x", reply=reply, stage_before=stage, stage_after=stage, **fields)


def test_routing_compares_the_last_stage_and_the_causes():
    conversation = case(
        route=["emotions", "causes"],
        causes=["skills_gap"],
        turns=[{"say": "one"}, {"say": "Move on", "consents": True}],
    )
    good = Transcript(conversation, [exchange("a"), exchange("b", "causes")])
    good.reflection = {"likely_causes": [{"cause": "skills_gap", "evidence": "SQL"}]}
    (result,) = routing(good)
    assert result.passed
    bad = Transcript(conversation, [exchange("a"), exchange("b")])
    bad.reflection = {"likely_causes": [{"cause": "competition", "evidence": "x"}]}
    (result,) = routing(bad)
    assert not result.passed and "ended in 'emotions'" in result.detail
    assert "competition" in result.detail


def test_grounding_needs_the_framework_in_the_prompt_and_a_mapped_strategy(loaded):
    framework = loaded.stage("improvement")
    system = f"Current step 3 of 5: {framework.title}.\n{framework.coach_focus}"
    conversation = case(mode="model")
    advice = "A focused SQL course would close that gap."
    good = Transcript(
        conversation,
        [
            exchange(
                advice,
                "improvement",
                causes=("skills_gap",),
                served=(reply_served(advice, system),),
            )
        ],
    )
    assert all(r.passed for r in grounding(good, loaded))
    off = "Go to meetups and make friends."
    bad = Transcript(
        conversation,
        [
            exchange(
                off,
                "improvement",
                causes=("skills_gap",),
                served=(reply_served(off, "no framework"),),
            )
        ],
    )
    details = [r.detail for r in grounding(bad, loaded) if not r.passed]
    assert len(details) == 2
    assert "lacks the improvement framework" in details[0]
    assert "names no strategy mapped to skills_gap" in details[1]
    assert mentions("Rehearse out loud, then a mock interview", loaded, ["mock_interviews"])


def test_safety_wants_the_fixed_reply_for_a_crisis_and_the_model_for_figures(guard):
    conversation = case(
        mode="model",
        turns=[
            {"say": "crisis words", "safety": "crisis"},
            {"say": "figure", "safety": "figurative"},
        ],
    )
    good = Transcript(
        conversation,
        [
            exchange("fixed", safety="crisis"),
            exchange("coached", served=(reply_served("coached"),)),
        ],
    )
    assert [r.passed for r in safety(good, guard)] == [True, True]
    bad = Transcript(
        conversation,
        [
            exchange("coached", served=(reply_served("coached"),)),
            exchange("fixed", safety="crisis"),
        ],
    )
    assert [r.passed for r in safety(bad, guard)] == [False, False]


def test_an_unsafe_recording_must_be_stopped_and_not_shown(guard):
    promise = "I guarantee you will get the next job."
    conversation = case(mode="model")
    caught = Transcript(
        conversation,
        [
            exchange(
                "A safe reply.",
                safety="guarded",
                served=(reply_served(promise, unsafe="guarantee"), reply_served("A safe reply.")),
            ),
            exchange("ok"),
        ],
    )
    assert all(r.passed for r in safety(caught, guard))
    shown = Transcript(
        conversation,
        [
            exchange(promise, served=(reply_served(promise, unsafe="guarantee"),)),
            exchange("ok"),
        ],
    )
    (result,) = safety(shown, guard)
    assert not result.passed and "reached the seeker" in result.detail
    harmless = Transcript(
        conversation,
        [exchange("Fine.", served=(reply_served("Fine.", unsafe="guarantee"),)), exchange("ok")],
    )
    (result,) = safety(harmless, guard)
    assert not result.passed and "passes a reply written as guarantee" in result.detail


def test_tone_wants_acknowledgement_first_and_no_blame(loaded):
    assert acknowledges_first("I'm sorry, that's a real disappointment. What happened?", loaded)
    assert not acknowledges_first("You should update your CV today.", loaded)
    assert not acknowledges_first("Let's get started on your applications.", loaded)
    assert blames("Honestly, that's your own fault.")
    assert not blames("It was not your fault: the field was strong.")
    assert not blames("That isn't your fault.")
    assert blames("It's not on you. But being late is your fault.")
    conversation = case(mode="model")
    bad = Transcript(
        conversation,
        [
            exchange(
                "Apply for three jobs now.", served=(reply_served("Apply for three jobs now."),)
            ),
            exchange("You blew it by being late."),
        ],
    )
    assert [r.passed for r in tone(bad, loaded)] == [False, True, False]
    on_purpose = Transcript(
        conversation,
        [
            exchange(
                "You should apply.",
                served=(reply_served("You should apply.", unsafe="advice_first"),),
            ),
            exchange("fine"),
        ],
    )
    assert all(r.passed for r in tone(on_purpose, loaded))


def test_paraphrases_must_end_alike():
    first = Transcript(case(name="a", paraphrase="p"), [exchange("x", "causes")])
    same = Transcript(case(name="b", paraphrase="p"), [exchange("y", "causes")])
    other = Transcript(case(name="c", paraphrase="p"), [exchange("z", "emotions", safety="crisis")])
    results = consistency([first, same, other])
    assert [r.passed for r in results] == [True, False]
    assert "stage emotions vs causes" in results[1].detail and "safety" in results[1].detail


def _plan(**changes: Any) -> dict[str, Any]:
    plan: dict[str, Any] = {
        "id": 1,
        "session_id": 1,
        "version": 1,
        "created_at": "2026-03-02T10:00:00Z",
        "headline": "h",
        "horizon_weeks": 2,
        "insights": {
            "emotions": [],
            "likely_causes": [{"cause": "skills_gap", "evidence": "SQL"}],
            "strengths": [],
        },
        "goals": [
            {
                "id": 1,
                "title": "Learn SQL window functions",
                "why": "w",
                "category": "skills",
                "steps": [
                    {"id": 1, "title": "Enrol", "due": "2026-03-10", "done": False, "done_at": None}
                ],
                "resources": [],
            }
        ],
        "routine": ["r"],
        "support": [],
        "review_on": "2026-03-16",
        "disclaimer": "No plan can guarantee a job offer.",
        "model": "guided",
        "progress": {"done": 0, "total": 1, "next_step": None},
        "journal": [],
    }
    return plan | changes


def test_the_plan_check_reads_schema_categories_dates_words_and_disclaimer(loaded, guard):
    context = Context(loaded, guard, TODAY)
    conversation = case(plan={"horizon_weeks": 2, "categories": ["skills"], "words": ["SQL"]})
    good = Transcript(conversation, plan=_plan())
    assert plan_problem(good, context) is None
    late = _plan()
    late["goals"][0]["steps"][0]["due"] = "2026-05-01"
    wrong = Transcript(conversation, plan=late | {"disclaimer": "Good luck!"})
    problem = plan_problem(wrong, context) or ""
    assert "outside the horizon" in problem and "no-guarantee" in problem
    other = _plan()
    other["goals"][0] |= {"category": "wellbeing", "title": "Walk daily"}
    problem = plan_problem(Transcript(conversation, plan=other), context) or ""
    assert "no goal in skills" in problem and "skills_gap" in problem and "'SQL'" in problem
    assert "schema" in (plan_problem(Transcript(conversation, plan={"id": 1}), context) or "")
    assert "no plan" in (
        plan_problem(Transcript(conversation, plan_error="HTTP 502"), context) or ""
    )
