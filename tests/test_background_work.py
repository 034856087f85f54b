"""Background work is bounded: at most one waiting job a session, at most `limit`
waiting in all; a job beyond that is dropped with a warning, and the session's next
turn does the dropped work before it is answered."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from coach.coaching.background import EXTENSION_KEY, BackgroundWork, background
from coach.storage.database import database
from coach.storage.models import CoachingSession, Message
from tests.conftest import ApiActions, AppFactory, make_openai_app
from tests.fake_model import FakeModel


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """Held shut while a test fills the queue; opened at the end whatever happens."""
    event = threading.Event()
    yield event
    event.set()


def blocker(gate: threading.Event, started: threading.Event) -> Callable[[], None]:
    def job() -> None:
        started.set()
        gate.wait(10)

    return job


def busy_work(gate: threading.Event, limit: int) -> BackgroundWork:
    """A one-worker pool whose worker is held by a job until the gate opens."""
    work = BackgroundWork(workers=1, limit=limit)
    started = threading.Event()
    assert work.submit(blocker(gate, started), "blocker", "blocker")
    assert started.wait(5)
    assert work.waiting == 0  # started: no longer waiting
    return work


def test_one_job_waits_per_session(gate):
    work = busy_work(gate, limit=10)
    ran: list[str] = []
    assert work.submit(lambda: ran.append("a"), "session 1", ("refine", 1))
    assert not work.submit(lambda: ran.append("a again"), "session 1", ("refine", 1))
    assert work.submit(lambda: ran.append("b"), "session 2", ("refine", 2))
    assert work.waiting == 2
    gate.set()
    work.wait_idle()
    assert sorted(ran) == ["a", "b"]
    assert work.dropped == 0


def test_a_started_job_lets_the_next_one_of_its_session_wait(gate):
    work = BackgroundWork(workers=1, limit=10)
    started = threading.Event()
    assert work.submit(blocker(gate, started), "session 1", ("refine", 1))
    assert started.wait(5)
    # The running job may have looked up its work already: a new turn queues again.
    assert work.submit(lambda: None, "session 1", ("refine", 1))
    assert not work.submit(lambda: None, "session 1", ("refine", 1))
    gate.set()
    work.wait_idle()


def test_a_full_queue_drops_the_job_with_a_warning(gate, caplog):
    work = busy_work(gate, limit=2)
    ran: list[int] = []
    assert work.submit(lambda: ran.append(1), "session 1", 1)
    assert work.submit(lambda: ran.append(2), "session 2", 2)
    with caplog.at_level(logging.WARNING, logger="coach.coaching.background"):
        assert not work.submit(lambda: ran.append(3), "reflection for session 3", 3)
    assert work.waiting == 2
    assert work.dropped == 1
    assert "background queue full" in caplog.text
    assert "reflection for session 3" in caplog.text
    gate.set()
    work.wait_idle()
    assert sorted(ran) == [1, 2]


def test_jobs_without_a_key_are_never_merged(gate):
    work = busy_work(gate, limit=10)
    ran: list[int] = []
    for n in range(3):
        assert work.submit(lambda n=n: ran.append(n), f"job {n}")
    gate.set()
    work.wait_idle()
    assert sorted(ran) == [0, 1, 2]


# In the app ------------------------------------------------------------------------


@pytest.fixture
def app(fake_model: FakeModel, app_factory: AppFactory) -> Flask:
    return make_openai_app(app_factory, fake_model, COACH_RECORD_READING="stage_change")


def _refined_through(app: Flask, session_id: int) -> int:
    with database(app).make_session() as db:
        return db.get_one(CoachingSession, session_id).refined_through_id


def _newest_reply(app: Flask, session_id: int) -> int:
    with database(app).make_session() as db:
        return max(
            m.id for m in db.scalars(Message.in_session(session_id)) if m.role == "assistant"
        )


def test_a_dropped_job_is_done_before_the_sessions_next_turn(app, fake_model, gate, caplog):
    # The app's pool: its one worker held, its one waiting place taken.
    app.extensions[EXTENSION_KEY] = work = busy_work(gate, limit=1)
    assert work.submit(lambda: None, "another session", ("refine", -1))
    api = ApiActions(app.test_client())
    token = api.guest()
    session_id = api.new_session(token)

    fake_model.enqueue_stream(["How are you feeling about it?"])
    with caplog.at_level(logging.WARNING, logger="coach.coaching.background"):
        assert api.send(token, session_id, "I didn't get the job.").status_code == 201
    assert work.dropped == 1
    assert "background queue full" in caplog.text
    first_reply = _newest_reply(app, session_id)
    assert _refined_through(app, session_id) < first_reply
    assert fake_model.crisis_checks == []  # nothing has looked at the turn yet

    # The next turn takes the safety second look at the first before it is answered.
    fake_model.enqueue_stream(["That sounds hard."])
    assert api.send(token, session_id, "I feel flat.").status_code == 201
    assert _refined_through(app, session_id) >= first_reply
    [check] = fake_model.crisis_checks
    assert "I didn't get the job." in check.messages[-1]["content"]
    gate.set()
    background(app).wait_idle()
