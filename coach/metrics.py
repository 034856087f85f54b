"""Prometheus metrics: turns, replies by how they ended, the model's latency and
tokens, crisis referrals, and the database connections in use (how many are
checked out of the pool now, how long each was held, "database is locked" errors):
a reply must hold none while the model talks. Counts only: no metric carries anyone's words,
identity or session.

Under gunicorn each worker is a process of its own, so the counts live in files
in one folder (prometheus_client's multiprocess mode) and `/metrics` adds them
up, whichever worker answers. prometheus_client decides between files and
memory when it is first imported, from PROMETHEUS_MULTIPROC_DIR: so this module
imports it only inside its functions, when an app is built, and the serving code
(`prepare_metrics_folder`) sets the folder before that. Without the folder (tests,
`flask run`) each app counts in memory for itself.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import Engine, event

if TYPE_CHECKING:  # only for types: the import itself must wait (see above)
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

MULTIPROCESS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"
EXTENSION_KEY = "coach.metrics"
# Seconds to the end of a model's reply: from a quick answer to a slow, long one.
LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0)
# Seconds a database connection is checked out: a short transaction takes
# milliseconds; one held while a model talks, a second or more.
HOLD_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LOCKED = "database is locked"


def prepare_metrics_folder() -> Path:
    """The multiprocess folder for this server, emptied of a previous run's files
    (their counts would otherwise be added in). Call it before any app is built."""
    given = os.environ.get(MULTIPROCESS_FOLDER)
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="coach-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_FOLDER] = str(folder)
    return folder


def forget_worker(pid: int) -> None:
    """A worker has exited: its live gauges no longer count (its counters still do)."""
    if os.environ.get(MULTIPROCESS_FOLDER):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


@dataclass
class CoachMetrics:
    """One app's metrics and the registry they are kept in."""

    registry: CollectorRegistry
    turns: Counter
    replies: Counter
    model_seconds: Histogram
    model_tokens: Counter
    crisis_referrals: Counter
    connections_in_use: Gauge
    connection_hold_seconds: Histogram
    database_locked: Counter

    def record_turn(self, kind: str) -> None:
        self.turns.labels(kind=kind).inc()

    def record_reply(
        self,
        *,
        status: str,
        provider: str,
        model_seconds: float | None,
        prompt_tokens: int | None,
        completion_tokens: int | None,
        crisis_referral: bool,
    ) -> None:
        self.replies.labels(status=status, provider=provider).inc()
        if model_seconds is not None:
            self.model_seconds.labels(provider=provider).observe(model_seconds)
        if prompt_tokens:
            self.model_tokens.labels(kind="prompt").inc(prompt_tokens)
        if completion_tokens:
            self.model_tokens.labels(kind="completion").inc(completion_tokens)
        if crisis_referral:
            self.crisis_referrals.inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text Prometheus scrapes, and its content type."""
        import prometheus_client as client
        from prometheus_client import multiprocess, values

        registry = self.registry
        if values.ValueClass is not values.MutexValue:  # counting in files
            # Every worker's files, not only this process's counts.
            registry = client.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return client.generate_latest(registry), client.CONTENT_TYPE_LATEST


def _make_metrics() -> CoachMetrics:
    import prometheus_client as client

    registry = client.CollectorRegistry()
    return CoachMetrics(
        registry=registry,
        turns=client.Counter(
            "coach_turns",
            "Replies begun: a seeker's new message, or a retry of one.",
            ["kind"],
            registry=registry,
        ),
        replies=client.Counter(
            "coach_replies",
            "Replies ended, by how they ended (complete, partial, failed, cancelled, "
            "client_gone) and the provider.",
            ["status", "provider"],
            registry=registry,
        ),
        model_seconds=client.Histogram(
            "coach_model_reply_seconds",
            "Seconds from asking the model to the end of its reply.",
            ["provider"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        model_tokens=client.Counter(
            "coach_model_tokens",
            "Tokens the model read (prompt) and wrote (completion) for replies.",
            ["kind"],
            registry=registry,
        ),
        crisis_referrals=client.Counter(
            "coach_crisis_referrals",
            "Crisis replies given, each with the helplines of COACH_CRISIS_REGION.",
            registry=registry,
        ),
        connections_in_use=client.Gauge(
            "coach_database_connections_in_use",
            "Database connections checked out of the pool now (all workers).",
            registry=registry,
            # Summed over the workers alive; a dead worker's connections are gone.
            multiprocess_mode="livesum",
        ),
        connection_hold_seconds=client.Histogram(
            "coach_database_connection_hold_seconds",
            "Seconds from checking a database connection out of the pool to its return.",
            buckets=HOLD_BUCKETS,
            registry=registry,
        ),
        database_locked=client.Counter(
            "coach_database_locked_errors",
            'Statements that failed with SQLite\'s "database is locked".',
            registry=registry,
        ),
    )


def init_app(app: Flask, engine: Engine | None = None) -> None:
    """The app's metrics; with `engine`, its pool's connections are counted too."""
    found = app.extensions[EXTENSION_KEY] = _make_metrics()
    if engine is not None:
        watch_connections(found, engine)


def watch_connections(found: CoachMetrics, engine: Engine) -> None:
    """Count `engine`'s connections as they leave and return to the pool, and its
    "database is locked" errors."""
    checked_out: dict[int, float] = {}  # connection record -> when it left the pool
    lock = threading.Lock()

    @event.listens_for(engine, "checkout")
    def _checkout(_dbapi: Any, record: Any, _proxy: Any) -> None:
        with lock:
            checked_out[id(record)] = time.perf_counter()
        found.connections_in_use.inc()

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi: Any, record: Any) -> None:
        with lock:
            since = checked_out.pop(id(record), None)
        if since is not None:  # a connection checked out before we watched: not ours
            found.connections_in_use.dec()
            found.connection_hold_seconds.observe(time.perf_counter() - since)

    @event.listens_for(engine, "handle_error")
    def _failed(context: Any) -> None:
        if LOCKED in str(context.original_exception):
            found.database_locked.inc()


def metrics(app: Flask) -> CoachMetrics:
    found: CoachMetrics = app.extensions[EXTENSION_KEY]
    return found
