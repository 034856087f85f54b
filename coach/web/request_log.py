"""Each request's id and its line in the access log.

A request keeps the `X-Request-ID` it came with (a proxy's, so that one id
follows it through every hop) when that is a sensible token, or gets a new one;
the response carries it back, and every log line written while answering it
names it (`coach.logs`). The access line is written when the response has been
sent, so that a streamed reply's line gives its whole duration. It names the
path without its query and no header: nothing a client sends as a secret.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request
from flask_limiter.util import get_remote_address

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is kept when it looks like one (letters, digits, a few marks; at
# most 128): anything else could forge or break log lines.
ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@+=-]{1,128}")

access_log = logging.getLogger("coach.access")


def _begin() -> None:
    given = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = given if ACCEPTED_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.monotonic()


def _answer(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:  # a response made before `_begin` ran
        return response
    response.headers[REQUEST_ID_HEADER] = request_id
    method, path, address = request.method, request.path, get_remote_address()
    started = g.request_started

    def log_line() -> None:
        seconds = time.monotonic() - started
        access_log.info(
            "%s %s %s %.0fms %s",
            method,
            path,
            response.status_code,
            seconds * 1000,
            address,
            extra={
                "request_id": request_id,
                "method": method,
                "path": path,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000),
                "client": address,
            },
        )

    response.call_on_close(log_line)
    return response


def init_app(app: Flask) -> None:
    app.before_request(_begin)
    app.after_request(_answer)
