"""Work done after a reply is stored, so that the seeker does not wait for it.

A small thread pool per app process. Its work reads and writes only the
database, so nothing it does lives in one process's memory alone, and none of it
is lost when a job is not run: each job brings a session's model reading up to
date, and the session's next turn does whatever is still undone before it is
answered (`coach.coaching.record_refinement.bring_record_up_to_date`).

So the waiting work is bounded: at most one job waits per key (a session; the
waiting job covers every turn finished meanwhile, since it looks up what to read
when it starts), and at most `limit` jobs wait in all. A job beyond that is
dropped with a warning rather than queued behind a backlog that could grow
without end.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import Flask, current_app

log = logging.getLogger(__name__)

EXTENSION_KEY = "coach.coaching.background"


class BackgroundWork:
    def __init__(self, workers: int = 2, limit: int = 64) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="coach-bg")
        self._pending: set[Future[None]] = set()
        # Keys of the jobs submitted and not yet started.
        self._waiting: set[Hashable] = set()
        self.limit = limit
        self.dropped = 0
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        """Jobs submitted and not yet started."""
        with self._lock:
            return len(self._waiting)

    def submit(self, job: Callable[[], None], description: str, key: Hashable = None) -> bool:
        """Run `job` soon; False when it was not queued: a job of the same `key` is
        already waiting (it will do this one's work), or the queue is full."""
        key = key if key is not None else object()  # no key: never merged with another
        with self._lock:
            if key in self._waiting:
                return False
            if len(self._waiting) >= self.limit:
                self.dropped += 1
                log.warning(
                    "background queue full (%d waiting): dropped %s; it is done before "
                    "that session's next turn",
                    len(self._waiting),
                    description,
                )
                return False
            self._waiting.add(key)
            future = self._executor.submit(self._started(key, _logged(job, description)))
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return True

    def _started(self, key: Hashable, job: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            with self._lock:
                self._waiting.discard(key)
            job()

        return run

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Block until the work submitted so far has finished (for shutdown and tests)."""
        with self._lock:
            pending = set(self._pending)
        wait(pending, timeout=timeout)


def _logged(job: Callable[[], None], description: str) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("background work failed: %s", description)

    return run


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = BackgroundWork(limit=app.config["COACH_BACKGROUND_QUEUE"])


def background(app: Flask | None = None) -> BackgroundWork:
    work: BackgroundWork = (app or current_app).extensions[EXTENSION_KEY]
    return work
