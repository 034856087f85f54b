"""SQLite: the writers of one process take turns (coach.storage.database), and every
way a write transaction can end gives the turn back, so that no writer is left
waiting on a turn nobody holds."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from coach.storage.database import database, short_transaction
from coach.storage.write_turns import WriteTurns

# Far below the busy timeout (5 s) that a lost turn would cost the next writer.
PROMPT_SECONDS = 1.0


def start_writer(app) -> tuple[threading.Thread, threading.Event]:
    """A write transaction in another thread, and the event it sets once it began."""
    started = threading.Event()

    def write() -> None:
        with short_transaction(app) as session:
            # The transaction begins with its first statement.
            session.execute(text("SELECT 1"))
            started.set()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread, started


def next_writer_starts_within(app, seconds: float) -> bool:
    """Whether a write transaction in another thread begins within `seconds`."""
    thread, started = start_writer(app)
    began = started.wait(seconds)
    thread.join(10)
    return began


def writer_holding_the_turn(app) -> tuple[threading.Event, threading.Thread]:
    """A writer in another thread that has begun its transaction and keeps it open
    until the returned event is set."""
    holding = threading.Event()
    release = threading.Event()

    def hold_the_turn() -> None:
        with short_transaction(app) as session:
            session.execute(text("UPDATE users SET role = role"))
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_turn, daemon=True)
    holder.start()
    assert holding.wait(5)
    return release, holder


def test_a_committed_write_gives_the_turn_back(app):
    with short_transaction(app) as session:
        session.execute(text("UPDATE users SET role = role"))
    assert next_writer_starts_within(app, PROMPT_SECONDS)


def test_a_write_that_raises_gives_the_turn_back(app):
    with pytest.raises(RuntimeError), short_transaction(app) as session:
        session.execute(text("UPDATE users SET role = role"))
        raise RuntimeError("the turn failed")
    assert next_writer_starts_within(app, PROMPT_SECONDS)


def test_a_connection_dropped_mid_transaction_gives_the_turn_back(app):
    connection = database(app).engine.connect()
    connection.begin()
    connection.execute(text("UPDATE users SET role = role"))
    # Closed without commit or rollback: the pool rolls it back on checkin.
    connection.close()
    assert next_writer_starts_within(app, PROMPT_SECONDS)


def test_a_second_writer_waits_for_the_first_to_finish(app):
    release, holder = writer_holding_the_turn(app)
    waiting, started = start_writer(app)
    assert not started.wait(0.3)
    release.set()
    holder.join(10)
    assert started.wait(PROMPT_SECONDS)
    waiting.join(10)


def test_readers_do_not_wait_for_a_writer(app):
    release, holder = writer_holding_the_turn(app)
    began = time.monotonic()
    with short_transaction(app, read_only=True) as session:
        session.execute(text("SELECT count(*) FROM users"))
    assert time.monotonic() - began < PROMPT_SECONDS
    release.set()
    holder.join(10)


def test_many_concurrent_writers_all_commit(app):
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            for _ in range(5):
                with short_transaction(app) as session:
                    session.execute(text("UPDATE users SET role = role"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []


def test_writers_get_their_turns_in_the_order_they_came():
    turns = WriteTurns()
    assert turns.acquire(timeout=1)
    served: list[int] = []

    def wait_for_turn(number: int) -> None:
        assert turns.acquire(timeout=10)
        served.append(number)
        turns.release()

    waiters = []
    for number in range(8):
        waiter = threading.Thread(target=wait_for_turn, args=(number,), daemon=True)
        waiter.start()
        waiters.append(waiter)
        time.sleep(0.02)  # so that they queue in this order
    turns.release()
    # A newcomer asking right after the release goes behind the queue, not ahead of it.
    assert turns.acquire(timeout=10)
    served.append(-1)
    turns.release()
    for waiter in waiters:
        waiter.join(10)
    assert served == [*range(8), -1]


def test_a_writer_whose_wait_ran_out_leaves_the_line_and_the_turn_goes_on():
    turns = WriteTurns()
    assert turns.acquire(timeout=1)
    assert not turns.acquire(timeout=0.05)  # gave up: it holds no turn
    later = threading.Event()

    def wait_for_turn() -> None:
        if turns.acquire(timeout=10):
            later.set()
            turns.release()

    waiter = threading.Thread(target=wait_for_turn, daemon=True)
    waiter.start()
    time.sleep(0.05)
    turns.release()  # to the one still waiting, not to the one that left
    assert later.wait(PROMPT_SECONDS)
    waiter.join(10)
    assert turns.acquire(timeout=0.05)  # and free again after it
