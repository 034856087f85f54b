"""Folding in chunks: the recent turns grow by a chunk, then the oldest chunk is folded
into the summary at once, so that the prompt's beginning (the system prompt and the
first turn after it) stays the same between folds, and no turn is lost: each one is
either shown verbatim or summarised."""

from __future__ import annotations

from itertools import pairwise

import pytest
from flask import Flask

from coach.coaching.background import background
from coach.coaching.prompts import build_chat_prompt
from coach.coaching.transcript import fold_old_turns, window_size
from coach.storage.database import database
from coach.storage.models import CoachingSession, Message
from tests.conftest import ApiActions, AppFactory, make_openai_app
from tests.fake_model import FakeModel

RECENT, CHUNK = 4, 6


def messages(count: int) -> list[Message]:
    roles = ("user", "assistant")
    return [
        Message(id=n, role=roles[(n - 1) % 2], content=f"Message {n}.", status="complete")
        for n in range(1, count + 1)
    ]


@pytest.mark.parametrize("count", range(1, 30))
def test_the_fold_happens_at_the_chunk_boundary(count):
    coaching_session = CoachingSession(summary="", summary_through_id=0)
    folds = []
    for upto in range(1, count + 1):
        before = coaching_session.summary_through_id
        fold_old_turns(coaching_session, messages(upto), RECENT, 10_000, CHUNK)
        if coaching_session.summary_through_id != before:
            folds.append((upto, coaching_session.summary_through_id - before))
    # A chunk is folded each time the unfolded turns reach the recent ones plus a chunk.
    expected = [(RECENT + CHUNK * k, CHUNK) for k in range(1, 10) if RECENT + CHUNK * k <= count]
    assert folds == expected
    unfolded = count - coaching_session.summary_through_id
    assert RECENT <= unfolded < RECENT + CHUNK or count < RECENT + CHUNK
    # Every folded message has its note in the summary, in order.
    notes = coaching_session.summary.splitlines()
    assert [line.split(": ", 1)[1] for line in notes] == [
        f"Message {n}." for n in range(1, coaching_session.summary_through_id + 1)
    ]


def test_a_chunk_of_one_folds_every_turn_as_before():
    coaching_session = CoachingSession(summary="", summary_through_id=0)
    for upto in range(RECENT + 1, 12):
        fold_old_turns(coaching_session, messages(upto), RECENT, 10_000, 1)
        assert coaching_session.summary_through_id == upto - RECENT


def _say(api: ApiActions, token: str, session_id: int, turn: int) -> None:
    text = f"Turn {turn}: I keep going over the interview and the project I described."
    assert api.send(token, session_id, text).status_code == 201


def test_nothing_is_lost_between_the_window_and_the_summary(app_factory: AppFactory):
    # A summary roomy enough for every note: its own bound (dropping middle turns) is
    # tested in tests/test_summary.py.
    app = app_factory(
        COACH_RECENT_MESSAGES=RECENT, COACH_FOLD_CHUNK=CHUNK, COACH_SUMMARY_MAX_CHARS=20_000
    )
    api = ApiActions(app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    for turn in range(1, 16):
        _say(api, token, session_id, turn)
        prompt, stored = _latest_prompt(app, session_id)
        shown = [t.content for t in prompt.history] + [prompt.user_message]
        # Each seeker message is in the window verbatim or has its note in the summary.
        for said in stored:
            assert said in shown or f"- Seeker: {said}" in prompt.system, said
        assert len(prompt.history) <= window_size(RECENT, CHUNK)


def _latest_prompt(app: Flask, session_id: int):
    with database(app).make_session() as db:
        said = [m for m in db.scalars(Message.in_session(session_id)) if m.role == "user"]
        texts = [m.content for m in said]
        newest = said[-1].id
    return build_chat_prompt(app, newest), texts


@pytest.fixture
def model_app(fake_model: FakeModel, app_factory: AppFactory) -> Flask:
    return make_openai_app(
        app_factory,
        fake_model,
        COACH_RECENT_MESSAGES=RECENT,
        COACH_FOLD_CHUNK=CHUNK,
        COACH_RECORD_READING="stage_change",
    )


def test_the_prompts_beginning_stays_the_same_between_folds(model_app, fake_model):
    fake_model.answer_every_turn(["Thank you for telling me. What happened next?"], 0, "{}")
    api = ApiActions(model_app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    moved = api.client.patch(
        f"/api/v1/sessions/{session_id}", headers=api.headers(token), json={"stage": "plan"}
    )
    assert moved.status_code == 200
    turns = 20
    for turn in range(1, turns + 1):
        _say(api, token, session_id, turn)
        # The summary's rewrite after a fold is in before the next turn, as it is when
        # a seeker takes a few seconds to answer.
        background(model_app).wait_idle()
    requests = fake_model.reply_requests
    assert len(requests) == turns
    beginnings = [(r.messages[0]["content"], r.messages[1]["content"]) for r in requests]
    changed = [n + 2 for n, (a, b) in enumerate(pairwise(beginnings)) if a != b]
    # Two messages a turn: a fold after the replies of turns 5, 8, 11, ... (the window
    # reaching RECENT + CHUNK messages), seen by the requests of the turns after them.
    folds = [t for t in range(1, turns + 1) if 2 * t > RECENT and (2 * t - RECENT) % CHUNK == 0]
    assert folds == [5, 8, 11, 14, 17, 20]
    # Turn 2 is the first with a turn before it; from then on only a fold changes it.
    assert changed == [2, *(t + 1 for t in folds if t < turns)]
    # No stage ends here, so no reading takes the rewrite along: the notes wait until
    # they outgrow their cap (RECENT + CHUNK), every second fold of CHUNK notes, and
    # the rewrite is then a request of its own, in before the next turn.
    assert 2 * CHUNK > RECENT + CHUNK >= CHUNK
    assert len(fake_model.summary_requests) == len(folds) // 2
    assert fake_model.reflection_requests == []
    # The system prompt carries no turn-by-turn part; the move and the record come after
    # the conversation, in the note just before the new message.
    for request in requests:
        assert request.messages[-2]["role"] == "system"
        assert "What to do on this turn" in request.messages[-2]["content"]
        assert "What to do on this turn" not in request.messages[0]["content"]
    with database(model_app).make_session() as db:
        assert db.get_one(CoachingSession, session_id).summary_through_id > 0
