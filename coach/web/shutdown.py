"""A gunicorn worker's shutdown as the replies it is writing see it.

On SIGTERM (a restart, a deploy, `gunicorn` stopping) a worker stops taking new
requests and gives the ones in flight `graceful_timeout` seconds before it is
killed. A reply that finishes in that time is stored whole, as usual. One that
would not is stopped a little before the kill (`STOP_BEFORE_KILL_SECONDS`) and
stores what it has as partial, with a retry offered, instead of dying unstored
with its conversation held by a reply mark until the mark expires.

`post_worker_init` is the gunicorn hook that arranges this; `coach serve` sets it,
and a gunicorn configuration file names it the same way.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from flask import Flask

from coach.coaching.reply_mark import mark_keeper

log = logging.getLogger(__name__)

# Time left, before gunicorn's kill, for a stopped reply to store itself: it stops at
# its next piece of text and then writes one short transaction.
STOP_BEFORE_KILL_SECONDS = 3.0


def stop_replies_after(app: Flask, seconds: float) -> threading.Timer:
    """In `seconds`, stop the replies this process is still writing."""
    timer = threading.Timer(max(seconds, 0.0), mark_keeper(app).stop_replies)
    timer.daemon = True
    timer.name = "coach-stop-replies"
    timer.start()
    return timer


def post_worker_init(worker: Any) -> None:
    """Gunicorn hook: chain to the worker's own SIGTERM handler a timer that stops
    its replies before `graceful_timeout` runs out."""
    app = worker.wsgi
    if not isinstance(app, Flask):
        log.warning(
            "the served application is not the coach's Flask app: "
            "its replies are not stopped on shutdown"
        )
        return
    previous = signal.getsignal(signal.SIGTERM)
    grace = float(worker.cfg.graceful_timeout) - STOP_BEFORE_KILL_SECONDS

    def on_terminate(signum: int, frame: Any) -> None:
        log.info("shutting down: replies still being written stop in %.0f s", max(grace, 0))
        stop_replies_after(app, grace)
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, on_terminate)
