"""The rolling summary: the deterministic notes keep the opening turns and drop
middle ones first; with a model, the model rewrites the summary in the background
and the notes stay as the fallback."""

from __future__ import annotations

import pytest
from flask import Flask

from coach.coaching.background import background
from coach.coaching.prompts import DATA_OPEN, instruction_part
from coach.coaching.transcript import SUMMARY_GAP, fold_into_summary, has_turn_notes
from coach.storage.database import database
from coach.storage.models import CoachingSession, Message
from tests.conftest import ApiActions, AppFactory, make_openai_app
from tests.fake_model import FakeModel

OPENING = "I applied for a data analyst role at Northwind and got to the final round."
FEEDBACK = "The recruiter said my SQL was not strong enough."


def message(role: str, content: str) -> Message:
    return Message(role=role, content=content, status="complete")


def test_the_opening_turns_stay_when_middle_turns_are_dropped():
    summary = ""
    for n, text in enumerate(
        [OPENING, FEEDBACK] + [f"Middle turn {n} about how the week went." for n in range(60)]
    ):
        summary = fold_into_summary(
            summary, [message("user", text), message("assistant", f"Question {n}?")], 600
        )
    lines = summary.splitlines()
    assert len(summary) <= 600
    assert lines[:4] == [
        f"- Seeker: {OPENING}",
        "- Coach: Question 0?",
        f"- Seeker: {FEEDBACK}",
        "- Coach: Question 1?",
    ]
    assert lines[4] == SUMMARY_GAP
    assert summary.count(SUMMARY_GAP) == 1
    # The newest turns are there; the oldest middle turns went first.
    assert lines[-2:] == [
        "- Seeker: Middle turn 59 about how the week went.",
        "- Coach: Question 61?",
    ]
    assert "Middle turn 0 " not in summary


def test_a_short_summary_drops_nothing():
    summary = fold_into_summary("", [message("user", OPENING)], 1500)
    assert summary == f"- Seeker: {OPENING}"
    assert SUMMARY_GAP not in summary
    assert has_turn_notes(summary)
    assert not has_turn_notes("They applied for a data analyst role.")


def test_a_model_written_summary_leads_and_is_kept_like_an_opening():
    written = "They applied for a data analyst role; the feedback named SQL."
    summary = written
    for n in range(40):
        summary = fold_into_summary(summary, [message("user", f"Later turn {n}.")], 300)
    assert summary.splitlines()[0] == written
    assert "Later turn 39." in summary
    assert len(summary) <= 300


# With a model --------------------------------------------------------------------------


@pytest.fixture
def app(fake_model: FakeModel, app_factory: AppFactory) -> Flask:
    # Two messages in the window, folded one turn at a time: every turn after the
    # first folds one into the summary (folds in chunks: tests/test_fold_chunks.py).
    return make_openai_app(app_factory, fake_model, COACH_RECENT_MESSAGES=2, COACH_FOLD_CHUNK=1)


@pytest.fixture
def seeker(api: ApiActions) -> tuple[str, int]:
    token = api.guest()
    return token, api.new_session(token)


def turn(app: Flask, api: ApiActions, seeker, fake_model: FakeModel, text: str, reply: str):
    token, session_id = seeker
    fake_model.enqueue_stream([reply])
    fake_model.enqueue_json("{}")
    assert api.send(token, session_id, text).status_code == 201
    background(app).wait_idle()


def stored_summary(app: Flask, session_id: int) -> str:
    with database(app).make_session() as db:
        return db.get_one(CoachingSession, session_id).summary


def test_the_model_rewrites_the_summary_in_the_background(app, api, seeker, fake_model):
    _, session_id = seeker
    turn(app, api, seeker, fake_model, OPENING, "That is a long way to get. How do you feel?")
    assert fake_model.summary_requests == []  # nothing folded yet
    written = "They applied for a data analyst role at Northwind and reached the final round."
    fake_model.enqueue_summary(written)
    turn(app, api, seeker, fake_model, FEEDBACK, "What did they say exactly?")

    [request] = fake_model.summary_requests
    system, shown = request.messages[0]["content"], request.messages[-1]["content"]
    assert "role they applied for" in system and "feedback" in system
    assert OPENING not in system
    assert OPENING in shown  # in full, not only as a note
    assert "That is a long way to get. How do you feel?" in shown
    assert stored_summary(app, session_id) == written

    # The next reply's prompt carries the model's summary, as data.
    fake_model.enqueue_summary("They reached the final round; the feedback named SQL.")
    turn(app, api, seeker, fake_model, "I feel stupid.", "That sounds heavy.")
    system_prompt = fake_model.reply_requests[-1].messages[0]["content"]
    assert written in system_prompt.split(DATA_OPEN, 1)[1]
    assert written not in instruction_part(system_prompt)
    assert (
        stored_summary(app, session_id) == "They reached the final round; the feedback named SQL."
    )


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"raw": "not JSON"}, id="not-json"),
        pytest.param({"raw": '{"text": "wrong field"}'}, id="wrong-shape"),
        pytest.param({"summary": "x" * 2000}, id="too-long"),
    ],
)
def test_the_notes_stand_when_the_model_cannot_write_the_summary(
    app, api, seeker, fake_model, answer
):
    _, session_id = seeker
    turn(app, api, seeker, fake_model, OPENING, "How do you feel?")
    fake_model.enqueue_summary(**answer)
    turn(app, api, seeker, fake_model, FEEDBACK, "What did they say?")

    assert len(fake_model.summary_requests) == 1
    notes = stored_summary(app, session_id)
    assert notes.startswith(f"- Seeker: {OPENING}")
    assert has_turn_notes(notes)

    # The next reading tries again, from the notes.
    fake_model.enqueue_summary("They applied for a data analyst role; SQL was named.")
    turn(app, api, seeker, fake_model, "I feel stupid.", "That sounds heavy.")
    assert len(fake_model.summary_requests) == 2
    assert OPENING in fake_model.summary_requests[-1].messages[-1]["content"]
    assert stored_summary(app, session_id) == "They applied for a data analyst role; SQL was named."


def test_guided_mode_keeps_the_deterministic_notes(app_factory: AppFactory):
    app = app_factory(COACH_RECENT_MESSAGES=2, COACH_FOLD_CHUNK=1)
    api = ApiActions(app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    for text in (OPENING, FEEDBACK, "I feel stupid."):
        assert api.send(token, session_id, text).status_code == 201
    background(app).wait_idle()
    assert stored_summary(app, session_id).startswith(f"- Seeker: {OPENING}")
