"""How the coach logs when it serves: one `dictConfig` for the app's loggers and
gunicorn's, lines with a time (UTC, ISO 8601), level, logger name and the
request's id, as text by default or as one JSON object per line
(COACH_LOG_FORMAT=json) for a log collector.

Logging belongs to the process rather than to one app, so the serving code
(`coach.serving`, `coach serve`) applies it, from the environment; building an
app (a test, a script) leaves the process's logging alone.

No secret reaches a line: whatever a formatter writes passes through `redact`,
which hides bearer tokens and the values of the secret settings.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import g, has_app_context, has_request_context

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
NO_REQUEST = "-"
HIDDEN = "[hidden]"
BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+")
# Settings whose values never appear in a line (URLs: their password).
SECRET_VARIABLES = (
    "OPENAI_API_KEY",
    "COACH_SECRET_KEY",
    "COACH_METRICS_TOKEN",
    "COACH_DATABASE_URL",
    "COACH_REDIS_URL",
)
# Logging is process-wide, so is what it must hide: the values of the secret
# settings of every app this process built (`hide_secrets_of`).
_secrets: set[str] = set()
# Shorter values are placeholders that local model servers accept (`none`,
# `ollama`), not secrets; hiding them would blank ordinary words in every line.
SHORTEST_SECRET = 8


def hide_secrets_of(settings: Mapping[str, Any]) -> None:
    """From now on, the secret settings' values are hidden in every log line."""
    for name in SECRET_VARIABLES:
        value = settings.get(name)
        if not isinstance(value, str) or not value:
            continue
        secret = urlsplit(value).password if "://" in value else value
        if secret and len(secret) >= SHORTEST_SECRET:
            _secrets.add(secret)


def redact(line: str) -> str:
    line = BEARER.sub(f"Bearer {HIDDEN}", line)
    for secret in _secrets:
        line = line.replace(secret, HIDDEN)
    return line


class RequestIdFilter(logging.Filter):
    """Gives every record the id of the request it was logged in, or `-`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request_id"):  # given by the caller (the access log)
            return True
        request_id = NO_REQUEST
        if has_request_context() or has_app_context():
            request_id = g.get("request_id", NO_REQUEST)
        record.request_id = request_id
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")
        self.converter = time.gmtime  # times in UTC, as the Z says

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; fields a record carries in `extra` join it."""

    # LogRecord's own attributes, which are not a caller's extra fields.
    STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
        "message",
        "asctime",
        "request_id",
    }

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", NO_REQUEST),
            "message": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in self.STANDARD and not key.startswith("_"):
                line[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


def logging_config(environment: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The `dictConfig` for COACH_LOG_FORMAT and COACH_LOG_LEVEL (already checked
    by the app's configuration; unset, text at INFO)."""
    log_format = environment.get("COACH_LOG_FORMAT") or "text"
    level = environment.get("COACH_LOG_LEVEL") or "INFO"
    if log_format not in LOG_FORMATS:
        raise ValueError(f"COACH_LOG_FORMAT: expected one of {', '.join(LOG_FORMATS)}")
    if level not in LOG_LEVELS:
        raise ValueError(f"COACH_LOG_LEVEL: expected one of {', '.join(LOG_LEVELS)}")
    hide_secrets_of(environment)
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"coach": {"()": formatter}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "coach",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {
            # Gunicorn's own messages (workers starting, timeouts) in the same lines.
            "gunicorn.error": {"level": level, "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
