"""Rate limits, counted in Redis when COACH_REDIS_URL is set so that several app
instances share one count; in memory otherwise (one process only).

Flask-Limiter keeps its per-app state in `app.extensions`; the module-level
object only carries the decorators.
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def _caller_key() -> str:
    """Count per signed-in browser, per bearer token, else per address."""
    user_id = session.get("user_id")
    if user_id:
        return f"user:{user_id}"
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(header.encode()).hexdigest()[:24]
    return f"address:{get_remote_address()}"


limiter = Limiter(key_func=_caller_key)


def message_limit() -> str:
    limit: str = current_app.config["COACH_RATE_LIMIT"]
    return limit


def init_app(app: Flask) -> None:
    app.config["RATELIMIT_STORAGE_URI"] = app.config["COACH_REDIS_URL"] or "memory://"
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    limiter.init_app(app)
