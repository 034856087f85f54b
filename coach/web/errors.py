"""Errors to HTTP: every `CoachError` becomes `{"error": {"code", "message"}}` with
its status (a page for a browser asking for one). Anything else is a 500 with a
generic message, after the request's database session is rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from coach.errors import CoachError
from coach.storage.database import rollback_request_session
from coach.web.schemas import Error

log = logging.getLogger(__name__)


def error_body(code: str, message: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    # "error" last, so that no extra field can replace it; the shape checks the rest.
    body = {**(extra or {}), "error": {"code": code, "message": message}}
    return Error.model_validate(body).model_dump(mode="json")


def error_response(
    code: str, message: str, status: int, extra: Mapping[str, Any] | None = None
) -> tuple[Response | str, int]:
    """JSON for the API and other clients; a page for a browser asking for one."""
    if _wants_page():
        title = HTTP_STATUS_CODES.get(status, "Error")
        try:
            return render_template("error.html", title=title, message=message), status
        except Exception:  # the page needs the database; the JSON form never fails
            log.exception("could not render the error page")
    return jsonify(error_body(code, message, extra)), status


def _wants_page() -> bool:
    if request.path.startswith("/api/") or request.path == "/healthz":
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def init_app(app: Flask) -> None:
    app.register_error_handler(CoachError, _handle_coach_error)
    app.register_error_handler(OperationalError, _handle_database_unavailable)
    # Every pooled connection is taken and none came back in time.
    app.register_error_handler(PoolTimeout, _handle_database_unavailable)
    app.register_error_handler(HTTPException, _handle_http_exception)
    app.register_error_handler(Exception, _handle_unexpected)


def _handle_coach_error(exc: CoachError) -> tuple[Response | str, int]:
    return error_response(exc.code, exc.message, exc.status, exc.body)


def _handle_http_exception(exc: HTTPException) -> Any:
    code = (exc.name or "error").lower().replace(" ", "_")
    if exc.code == 413:
        return error_response("too_large", "The request body is too large.", 413)
    if exc.code == 429:
        return error_response("rate_limited", "Too many requests; wait a moment.", 429)
    return error_response(code, exc.description or exc.name, exc.code or 500)


def _handle_database_unavailable(
    exc: OperationalError | PoolTimeout,
) -> tuple[Response | str, int]:
    """A busy (locked, or no free connection) or unreachable database is a passing
    condition, not a bug."""
    rollback_request_session()
    cause = exc.orig if isinstance(exc, OperationalError) else exc
    log.warning("database unavailable: %s", type(cause).__name__)
    return error_response(
        "database_busy", "The service is busy right now; try again in a moment.", 503
    )


def _handle_unexpected(exc: Exception) -> tuple[Response | str, int]:
    rollback_request_session()
    log.exception("unhandled error")
    return error_response("internal_error", "Something went wrong on our side.", 500)
