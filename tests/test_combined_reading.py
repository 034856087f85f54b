"""Once a stage ends, the record's reading and the summary's rewrite are one request
(`coach.coaching.combined_reading`); between readings the summary's notes wait,
and are rewritten on their own only when they outgrow their cap; an answer that
does not fit leaves the rules' record and the notes as they were."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask

from coach.coaching.background import background
from coach.coaching.summary_writing import notes_cap
from coach.coaching.transcript import has_turn_notes
from coach.guide.record import ReflectionRecord
from coach.storage.database import database
from coach.storage.models import CoachingSession
from tests.conftest import ApiActions, AppFactory, make_openai_app
from tests.fake_model import FakeModel

OPENING = "I applied for a data analyst role at Northwind and got to the final round."
FEEDBACK = "The recruiter said my SQL was not strong enough."
WRITTEN = "They reached the final round for a data analyst role; the feedback named SQL."
COMBINED = "record_and_summary"


@pytest.fixture
def app(fake_model: FakeModel, app_factory: AppFactory) -> Flask:
    # Two messages in the window, folded two at a time: a fold after every turn from
    # the second on, and a cap of four notes.
    return make_openai_app(
        app_factory,
        fake_model,
        COACH_RECENT_MESSAGES=2,
        COACH_FOLD_CHUNK=2,
        COACH_RECORD_READING="stage_change",
    )


@pytest.fixture
def seeker(api: ApiActions) -> tuple[str, int]:
    token = api.guest()
    return token, api.new_session(token)


def say(
    app: Flask,
    api: ApiActions,
    seeker: tuple[str, int],
    fake: FakeModel,
    text: str,
    *readings: str,
) -> None:
    """One turn: the reply, then the structured answers given (in order)."""
    token, session_id = seeker
    fake.enqueue_stream(["I hear you. What happened next?"])
    for answer in readings:
        fake.enqueue_json(answer)
    assert api.send(token, session_id, text).status_code == 201
    background(app).wait_idle()


def stored(app: Flask, session_id: int) -> CoachingSession:
    with database(app).make_session() as db:
        coaching_session = db.get_one(CoachingSession, session_id)
        db.expunge(coaching_session)
        return coaching_session


def move_on(api: ApiActions, seeker: tuple[str, int], stage: str = "causes") -> None:
    token, session_id = seeker
    moved = api.client.patch(
        f"/api/v1/sessions/{session_id}", headers=api.headers(token), json={"stage": stage}
    )
    assert moved.status_code == 200


def structured(fake: FakeModel) -> list[str | None]:
    return [r.schema_name for r in fake.requests if r.schema_name is not None]


def reading_with(summary: str) -> dict[str, Any]:
    cause = {"cause": "skills_gap", "evidence": FEEDBACK}
    return {"reading": {"likely_causes": [cause], "feedback": ["SQL"]}, "summary": summary}


def test_a_stage_change_with_notes_waiting_reads_and_rewrites_in_one_request(
    app, api, seeker, fake_model
):
    _, session_id = seeker
    say(app, api, seeker, fake_model, OPENING)
    say(app, api, seeker, fake_model, FEEDBACK)
    # Folded, and the notes wait: no request of their own.
    assert has_turn_notes(stored(app, session_id).summary)
    assert fake_model.summary_requests == [] and structured(fake_model) == []

    move_on(api, seeker)
    say(app, api, seeker, fake_model, "I feel stupid about it.", json.dumps(reading_with(WRITTEN)))

    assert structured(fake_model) == [COMBINED]
    assert fake_model.summary_requests == []  # the rewrite took no request of its own
    [request] = [r for r in fake_model.requests if r.schema_name == COMBINED]
    system, shown = request.messages[0]["content"], request.messages[-1]["content"]
    assert "record" in system and "running summary" in system
    record_part, summary_part = shown.split("# For the second part: the summary")
    assert "I feel stupid about it." in record_part  # the stage's turns
    assert "- Seeker: " in summary_part and OPENING in summary_part  # notes, and in full
    after = stored(app, session_id)
    assert after.summary == WRITTEN
    record = ReflectionRecord.model_validate(after.reflection)
    assert [c.cause for c in record.likely_causes] == ["skills_gap"]
    assert len(fake_model.crisis_checks) == 3  # one second look a turn, as ever


def test_notes_beyond_the_cap_are_rewritten_on_their_own(app, api, seeker, fake_model):
    _, session_id = seeker
    assert notes_cap(app) == 4
    for text in (OPENING, FEEDBACK, "I keep replaying the SQL question."):
        say(app, api, seeker, fake_model, text)
    # Two folds of two notes: at the cap, not beyond it.
    assert fake_model.summary_requests == []
    fake_model.enqueue_summary(WRITTEN)
    say(app, api, seeker, fake_model, "I did not sleep well.")
    [request] = fake_model.summary_requests
    assert OPENING in request.messages[-1]["content"]  # the oldest noted turn, in full
    assert stored(app, session_id).summary == WRITTEN
    assert structured(fake_model) == []  # no stage ended: no reading


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param(["not JSON", "not JSON either"], id="not-json"),
        pytest.param([json.dumps({"reading": {}})] * 2, id="no-summary"),
        pytest.param([json.dumps({"summary": WRITTEN})] * 2, id="no-reading"),
    ],
)
def test_an_answer_that_does_not_fit_leaves_the_record_and_the_notes(
    app, api, seeker, fake_model, answers
):
    _, session_id = seeker
    say(app, api, seeker, fake_model, OPENING)
    say(app, api, seeker, fake_model, FEEDBACK)
    before = stored(app, session_id)
    move_on(api, seeker)
    # The answer and the repair attempt.
    say(app, api, seeker, fake_model, "I feel stupid about it.", *answers)

    assert structured(fake_model) == [COMBINED, COMBINED]
    after = stored(app, session_id)
    assert has_turn_notes(after.summary)  # the notes stand
    assert after.summary.startswith(f"- Seeker: {OPENING}")
    # The keyword rules' record stands (nothing of the model's is added), the turns
    # count as read, and the safety second look was taken.
    record = ReflectionRecord.model_validate(after.reflection)
    assert FEEDBACK not in [c.evidence for c in record.likely_causes if c.cause != "skills_gap"]
    assert "SQL" not in record.feedback  # the model's entry, never applied
    assert after.refined_through_id > before.refined_through_id
    assert len(fake_model.crisis_checks) == 3

    # The notes wait on: the next turn's fold takes them beyond the cap, and the
    # summary is rewritten on its own (no stage ended, so no reading with it).
    fake_model.enqueue_summary(WRITTEN)
    say(app, api, seeker, fake_model, "I want to get better at SQL.")
    assert structured(fake_model) == [COMBINED, COMBINED]
    [rewrite] = fake_model.summary_requests
    assert OPENING in rewrite.messages[-1]["content"]
    assert stored(app, session_id).summary == WRITTEN
    assert fake_model.pending == 0


def test_a_summary_too_long_is_dropped_and_the_reading_kept(app, api, seeker, fake_model):
    _, session_id = seeker
    say(app, api, seeker, fake_model, OPENING)
    say(app, api, seeker, fake_model, FEEDBACK)
    move_on(api, seeker)
    say(
        app,
        api,
        seeker,
        fake_model,
        "I feel stupid about it.",
        json.dumps(reading_with("x" * 5000)),
    )

    after = stored(app, session_id)
    assert has_turn_notes(after.summary)
    record = ReflectionRecord.model_validate(after.reflection)
    assert [c.evidence for c in record.likely_causes] == [FEEDBACK]


def test_notes_dropped_for_space_are_rewritten_with_their_turns_in_full(
    app_factory: AppFactory, fake_model: FakeModel
):
    app = make_openai_app(
        app_factory,
        fake_model,
        COACH_RECENT_MESSAGES=2,
        COACH_FOLD_CHUNK=2,
        COACH_RECORD_READING="stage_change",
        COACH_SUMMARY_MAX_CHARS=200,
    )
    api = ApiActions(app.test_client())
    token = api.guest()
    seeker = (token, api.new_session(token))
    say(app, api, seeker, fake_model, OPENING)
    say(app, api, seeker, fake_model, FEEDBACK)
    assert fake_model.summary_requests == []  # two notes, all there
    fake_model.enqueue_summary(WRITTEN)
    say(app, api, seeker, fake_model, "I keep replaying the SQL question in my head.")
    # Four notes (at the cap) do not fit in 200 characters: some were dropped, so the
    # summary is rewritten now, and the model is shown every folded turn in full.
    [request] = fake_model.summary_requests
    shown = request.messages[-1]["content"].split("in full, oldest first:")[1]
    assert OPENING in shown and FEEDBACK in shown
    assert stored(app, seeker[1]).summary == WRITTEN
