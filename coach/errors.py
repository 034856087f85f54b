"""The errors the coach shows to its users: a small hierarchy that every area may
raise. `coach.web.errors` turns each into its one JSON form and status.
"""

from __future__ import annotations

from typing import Any


class CoachError(Exception):
    """Base of every error a user may see."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        # Fields the JSON error body carries beside "error": what a client needs to
        # know about the request's effects, for example the seeker's message when it
        # was stored before the reply failed.
        self.body: dict[str, Any] = {}


class ConfigurationError(CoachError):
    code = "configuration_error"


class InvalidInput(CoachError):
    status = 400
    code = "invalid_input"


class PayloadTooLarge(CoachError):
    status = 413
    code = "too_large"


class NotAuthenticated(CoachError):
    status = 401
    code = "not_authenticated"


class Forbidden(CoachError):
    status = 403
    code = "forbidden"


class NotFound(CoachError):
    status = 404
    code = "not_found"


class Conflict(CoachError):
    status = 409
    code = "conflict"


class ModelUnavailable(CoachError):
    """The model could not answer; the seeker's message is kept and can be retried."""

    status = 502
    code = "model_unavailable"

    def __init__(self, message: str, *, retryable: bool = True, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable
