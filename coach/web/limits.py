"""Rate limits, counted in Redis when COACH_REDIS_URL is set so that several app
instances share one count; in memory otherwise (one process only).

When Redis cannot be reached, the same limits count in this process's memory
(Flask-Limiter's in-memory fallback, with a warning in the log) until Redis
answers again: a Redis outage loosens the limits for a while, it does not stop
guests from starting. Redis gets a short timeout, so that an unreachable host
costs a request a second, not a minute.

Flask-Limiter keeps its per-app state in `app.extensions`; the module-level
object only carries the decorators.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits.storage import MemoryStorage

from coach.errors import NotAuthenticated
from coach.web.auth import current_user

# How often the in-memory counts that have run out are swept away.
SWEEP_SECONDS = 1.0
IN_MEMORY = "coach-memory://"


class SweptMemoryStorage(MemoryStorage):
    """The `limits` package's in-memory counts, without the thread it starts after a
    hit to expire old ones. Starting a thread waits for the GIL, which a worker
    streaming dozens of replies hardly lets go: with two busy threads in the process
    a hit took 20 ms that way and 0.08 ms this way. A count that has run out is
    reset when it is next read, as before; the sweep only frees the memory of counts
    no one reads again, and runs on a hit at most once a SWEEP_SECONDS.

    It replaces a private method of `MemoryStorage` (`__schedule_expiry`), so a new
    `limits` release may change it: `tests/test_limits.py` checks that a hit starts
    no thread and that counts still run out and are swept."""

    STORAGE_SCHEME = ["coach-memory"]  # noqa: RUF012 (the registry reads a list)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: str):
        super().__init__(uri, wrap_exceptions, **_)
        self._swept = time.monotonic()
        self._sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now - self._swept < SWEEP_SECONDS or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._swept = now
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._sweeping.release()


def caller_key() -> str:
    """Count per verified user, else per address (which COACH_PROXY_HOPS makes the
    client's own). Never per raw header: a made-up or respelled `Authorization`
    header must not buy a fresh count."""
    try:
        user = current_user()
    except NotAuthenticated:
        user = None
    if user is not None:
        return f"user:{user.id}"
    return address_key()


def address_key() -> str:
    """For the limits that guard the doors (guests, logins): per address, whoever it
    claims to be."""
    return f"address:{get_remote_address()}"


limiter = Limiter(key_func=caller_key)


def setting_limit(name: str) -> Callable[[], str]:
    """A limit read from a setting when the request comes, so that each app's own counts."""

    def limit() -> str:
        value: str = current_app.config[name]
        return value

    return limit


message_limit = setting_limit("COACH_RATE_LIMIT")
guest_limit = setting_limit("COACH_GUEST_LIMIT")
login_limit = setting_limit("COACH_LOGIN_LIMIT")
session_limit = setting_limit("COACH_SESSION_LIMIT")
plan_limit = setting_limit("COACH_PLAN_LIMIT")


# One count of guests per address, whether the browser's start page or the API creates them.
guests_per_address = limiter.shared_limit(guest_limit, scope="guests", key_func=address_key)


# Plans made by one seeker, through the API or the chat page: each may ask the model.
plans_per_seeker = limiter.shared_limit(plan_limit, scope="plans")


REDIS_TIMEOUT_SECONDS = 1.0


def init_app(app: Flask) -> None:
    redis_url = app.config["COACH_REDIS_URL"]
    app.config["RATELIMIT_STORAGE_URI"] = redis_url or IN_MEMORY
    if redis_url:
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {
            "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            "socket_timeout": REDIS_TIMEOUT_SECONDS,
        }
        app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter.init_app(app)
