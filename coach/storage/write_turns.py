"""The turns SQLite's writers of one process take (`coach.storage.database`), handed
out in the order the writers came.

SQLite lets one transaction write at a time. Left to its busy handler, writers poll
with growing sleeps and the unlucky ones lose the race again and again; a plain
`threading.Lock` is no fairer, since a release wakes whichever waiter the system
picks. Under many concurrent turns either way gives a few turns waits many times
the median. Here each waiter gets its turn straight from the one before it, first
come first served, so the slowest wait is the queue ahead of it and no more.
"""

from __future__ import annotations

import threading
from collections import deque


class WriteTurns:
    """A lock whose waiters are served in order; `acquire` waits at most `timeout`."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._taken = False
        self._waiting: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        """Take the turn, waiting behind those who came first; False if it did not
        come within `timeout` seconds (the caller goes on without it)."""
        with self._guard:
            if not self._taken:
                self._taken = True
                return True
            handed = threading.Event()
            self._waiting.append(handed)
        if handed.wait(timeout):
            return True
        with self._guard:
            if handed.is_set():  # handed over just as the wait ran out: it is ours
                return True
            self._waiting.remove(handed)
            return False

    def release(self) -> None:
        """Give the turn to the next in line, or free it when no one waits."""
        with self._guard:
            if self._waiting:
                # Handed over directly: the turn is never free for a newcomer to take
                # ahead of those already waiting.
                self._waiting.popleft().set()
            else:
                self._taken = False
