"""The life of one reply (`coach.coaching.reply.Reply`), over real HTTP to the fake
model: however a reply ends, it is stored with the right status and its reply
mark is released exactly once; a long reply renews its mark; a cancel request
stops it; and one reply at a time holds when messages race."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from coach.coaching import reply, reply_mark
from coach.coaching.background import background
from coach.coaching.turns import begin_turn
from coach.guide.record import ReflectionRecord
from coach.storage.database import database
from coach.storage.models import CoachingSession, Message
from tests.conftest import ApiActions, AppFactory, make_openai_app
from tests.fake_model import FakeModel

EMPTY_RECORD = json.dumps(ReflectionRecord().model_dump(mode="json"))


@pytest.fixture
def app(fake_model: FakeModel, app_factory: AppFactory) -> Flask:
    return make_openai_app(app_factory, fake_model, COACH_MODEL_ATTEMPTS=1)


@pytest.fixture
def releases(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each time a reply mark is let go: stored with the reply, or released on its own."""
    seen: list[str] = []
    store, release = reply.store_reply, reply_mark.release

    def counting_store(app: Flask, mark: Any, *args: Any, **kwargs: Any) -> Any:
        stored = store(app, mark, *args, **kwargs)
        seen.append("stored")
        return stored

    def counting_release(app: Flask, mark: Any) -> None:
        release(app, mark)
        seen.append("released")

    monkeypatch.setattr(reply, "store_reply", counting_store)
    monkeypatch.setattr(reply_mark, "release", counting_release)
    return seen


def _new_session(api: ApiActions) -> tuple[str, int, int]:
    """A guest's token, a session of theirs, and their user id."""
    token = api.guest()
    session_id = api.new_session(token)
    return token, session_id, _session_row(api.client.application, session_id).owner_id


def _session_row(app: Flask, session_id: int) -> CoachingSession:
    with database(app).make_session() as db:
        return db.get_one(CoachingSession, session_id)


def _replies(app: Flask, session_id: int) -> list[Message]:
    with database(app).make_session() as db:
        return list(db.scalars(Message.in_session(session_id).where(Message.role == "assistant")))


def _close_after_first_delta(answer: reply.Reply) -> list[str]:
    names = []
    for event in answer:
        names.append(event.name)
        if event.name == "delta":
            answer.close()  # what the server does when the connection drops
            break
    return names


def _cancel_after_first_delta(answer: reply.Reply, api: ApiActions, token: str) -> list[str]:
    names = []
    for event in answer:
        names.append(event.name)
        if event.name == "delta" and names.count("delta") == 1:
            session_id = answer.mark.session_id
            response = api.client.post(
                f"/api/v1/sessions/{session_id}/cancel", headers=api.headers(token)
            )
            assert response.status_code == 202
    answer.close()
    return names


@pytest.mark.parametrize(
    ("ending", "status", "last_event"),
    [
        ("complete", "complete", "done"),
        ("model_error", "failed", "error"),
        ("dropped_stream", "partial", "error"),
        ("client_gone", "partial", "delta"),
        ("storing_fails", None, "error"),
        ("cancelled", "partial", "error"),
    ],
)
def test_every_ending_stores_the_right_status_and_lets_the_mark_go_once(
    app: Flask,
    api: ApiActions,
    fake_model: FakeModel,
    releases: list[str],
    monkeypatch: pytest.MonkeyPatch,
    ending: str,
    status: str | None,
    last_event: str,
) -> None:
    token, session_id, user_id = _new_session(api)
    if ending == "complete":
        fake_model.enqueue_stream(["You made it ", "to the last round."])
        fake_model.enqueue_json(EMPTY_RECORD)  # the model's reading of the record
    elif ending == "model_error":
        fake_model.enqueue_error(500)
    elif ending == "dropped_stream":
        fake_model.enqueue_broken_stream(["That sounds ", "hard, and "])
    elif ending == "storing_fails":
        fake_model.enqueue_stream(["Kept ", "nowhere."])
        working_store, failures = reply.store_reply, []

        def broken_store(*args: Any, **kwargs: Any) -> Any:
            if not failures:  # only this reply's; the next one stores as usual
                failures.append(args)
                raise RuntimeError("the database went away")
            return working_store(*args, **kwargs)

        monkeypatch.setattr(reply, "store_reply", broken_store)
    else:  # client_gone, cancelled: a reply slow enough to stop half-way
        monkeypatch.setattr(reply_mark, "CANCEL_CHECK_SECONDS", 0.0)
        fake_model.enqueue_stream(["One. ", "Two. ", "Three. ", "Four."], delay=0.2)

    answer = begin_turn(app, user_id, session_id, "I feel let down after the final round.")
    if ending == "client_gone":
        names = _close_after_first_delta(answer)
    elif ending == "cancelled":
        names = _cancel_after_first_delta(answer, api, token)
    else:
        names = [event.name for event in answer]
        answer.close()
    answer.close()  # closing again changes nothing
    background(app).wait_idle()

    assert names[0] == "message"
    assert names[-1] == last_event
    assert len(releases) == 1, releases
    assert answer.ending is not None
    stored = _replies(app, session_id)
    assert [m.status for m in stored] == ([status] if status else [])
    if status == "partial":
        assert stored[0].content.startswith(("That sounds ", "One."))
    assert _session_row(app, session_id).replying_token is None
    fake_model.enqueue_stream(["Still here."])
    fake_model.enqueue_json(EMPTY_RECORD)
    assert api.send(token, session_id, "Are you there?").status_code == 201


def test_a_reply_that_never_starts_lets_the_mark_go_once(
    app: Flask, api: ApiActions, releases: list[str]
) -> None:
    _token, session_id, user_id = _new_session(api)
    answer = begin_turn(app, user_id, session_id, "Hello")
    answer.close()
    assert releases == ["stored"]  # the mark cleared, and nothing to keep
    assert _replies(app, session_id) == []
    assert _session_row(app, session_id).replying_token is None


def test_a_long_reply_renews_its_mark_in_the_database(
    app: Flask, api: ApiActions, fake_model: FakeModel
) -> None:
    reply_mark.mark_keeper(app).every = 0.1
    _token, session_id, user_id = _new_session(api)
    # The first word comes late: the mark is renewed while the model is silent too.
    fake_model.enqueue_stream(["Slow ", "and ", "steady ", "reply."], delay=0.5)
    fake_model.enqueue_json(EMPTY_RECORD)
    answer = begin_turn(app, user_id, session_id, "I feel tired of all this.")
    claimed = _session_row(app, session_id).replying_since
    seen: list[datetime] = []
    for event in answer:
        if event.name == "delta":
            since = _session_row(app, session_id).replying_since
            assert since is not None
            seen.append(since)
    answer.close()
    assert claimed is not None
    assert max(seen).replace(tzinfo=UTC) > claimed.replace(tzinfo=UTC)
    assert _session_row(app, session_id).replying_since is None


def test_cancel_without_a_reply_in_progress_is_a_conflict(app: Flask, api: ApiActions) -> None:
    token, session_id, _user_id = _new_session(api)
    response = api.client.post(f"/api/v1/sessions/{session_id}/cancel", headers=api.headers(token))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "nothing_to_cancel"


def test_nobody_can_cancel_another_seekers_reply(app: Flask, api: ApiActions) -> None:
    _token, session_id, user_id = _new_session(api)
    begin_turn(app, user_id, session_id, "Mine")  # holds the mark, never answered
    stranger = api.guest()
    response = api.client.post(
        f"/api/v1/sessions/{session_id}/cancel", headers=api.headers(stranger)
    )
    assert response.status_code == 404
    assert _session_row(app, session_id).reply_cancel_requested is False


# Stage decisions read stored state only ------------------------------------------------


def _walk(
    app: Flask, fake_model: FakeModel, *, background_finishes: bool
) -> tuple[list[str], list[str]]:
    """Two turns; the model's reading of the first names a feeling the keyword rules
    miss. Returns the stage of each seeker message and the last reply's choices."""
    api = ApiActions(app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    if not background_finishes:
        # The background never gets to it, as when the seeker answers very fast.
        background(app).submit = lambda *_args: None  # type: ignore[method-assign]
    fake_model.enqueue_stream(["Tell me more."])
    fake_model.enqueue_json(json.dumps({"emotions": ["deflated"]}))
    assert api.send(token, session_id, "Not sure where to start").status_code == 201
    background(app).wait_idle()
    fake_model.enqueue_stream(["What do you think happened?"])
    fake_model.enqueue_json(EMPTY_RECORD)
    assert api.send(token, session_id, "It was a long process").status_code == 201
    background(app).wait_idle()
    messages = api.session(token, session_id)["messages"]
    return [m["stage"] for m in messages if m["role"] == "user"], messages[-1]["choices"]


@pytest.mark.parametrize("background_finishes", [True, False])
def test_the_stage_decision_does_not_depend_on_the_background(
    fake_model: FakeModel, app_factory: AppFactory, background_finishes: bool
) -> None:
    app = make_openai_app(app_factory, fake_model)
    stages, choices = _walk(app, fake_model, background_finishes=background_finishes)
    # The feeling the model read makes the stage ready either way: the coach asks to
    # move on, and stays until the seeker agrees.
    assert stages == ["emotions", "emotions"]
    assert choices == ["Move on", "Stay here"]
    kinds = ["reflection" if "response_format" in r.body else "reply" for r in fake_model.requests]
    if background_finishes:
        assert kinds == ["reply", "reflection", "reply", "reflection"]
    else:
        # The second turn had the model read the record before deciding its stage.
        assert kinds == ["reply", "reflection", "reply"]


# One reply at a time -----------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def racing_app(
    request: pytest.FixtureRequest, app_factory: AppFactory, fake_model: FakeModel
) -> Flask:
    overrides: dict[str, Any] = {}
    if request.param == "postgresql":
        overrides["COACH_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return make_openai_app(app_factory, fake_model, **overrides)


def test_racing_messages_let_exactly_one_through(racing_app: Flask, fake_model: FakeModel) -> None:
    api = ApiActions(racing_app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    # Slow enough that every racer arrives while the first reply is being written.
    fake_model.enqueue_stream(["Take ", "your ", "time."], delay=0.4)
    fake_model.enqueue_json(EMPTY_RECORD)
    barrier = threading.Barrier(4)
    outcomes: list[tuple[str, int]] = []

    def seeker(n: int) -> None:
        client = ApiActions(racing_app.test_client())
        barrier.wait()
        text = f"racing message {n}"
        outcomes.append((text, client.send(token, session_id, text).status_code))

    threads = [threading.Thread(target=seeker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    background(racing_app).wait_idle()
    assert sorted(status for _, status in outcomes) == [201, 409, 409, 409]
    [accepted] = [text for text, status in outcomes if status == 201]
    with database(racing_app).make_session() as db:
        stored = list(db.scalars(Message.in_session(session_id)))
    assert [(m.role, m.content) for m in stored if m.role == "user"] == [("user", accepted)]
    assert [(m.role, m.status, m.reply_to_id) for m in stored if m.role == "assistant"] == [
        ("assistant", "complete", stored[0].id)
    ]
    assert _session_row(racing_app, session_id).replying_token is None


def test_the_keeper_stops_renewing_once_the_reply_has_ended(
    app: Flask, api: ApiActions, fake_model: FakeModel
) -> None:
    keeper = reply_mark.mark_keeper(app)
    keeper.every = 0.05
    _token, session_id, user_id = _new_session(api)
    fake_model.enqueue_stream(["Hello. What happened?"])
    fake_model.enqueue_json(EMPTY_RECORD)
    answer = begin_turn(app, user_id, session_id, "Hello")
    assert keeper.kept() == [answer.mark]
    assert [event.name for event in answer][-1] == "done"
    answer.close()
    assert keeper.kept() == []
    assert _session_row(app, session_id).replying_token is None
