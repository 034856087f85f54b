"""Work done after a reply is stored, so that the seeker does not wait for it.

A small thread pool per app process. Its work reads and writes only the
database, so nothing it does lives in one process's memory alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import Flask, current_app

log = logging.getLogger(__name__)

EXTENSION_KEY = "coach.coaching.background"


class BackgroundWork:
    def __init__(self, workers: int = 2) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="coach-bg")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None], description: str) -> None:
        future = self._executor.submit(_logged(job, description))
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)

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
    app.extensions[EXTENSION_KEY] = BackgroundWork()


def background(app: Flask | None = None) -> BackgroundWork:
    work: BackgroundWork = (app or current_app).extensions[EXTENSION_KEY]
    return work
