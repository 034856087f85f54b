"""The JSON API under /api/v1: one blueprint per area."""

from __future__ import annotations

from typing import Any

from flask import request

from coach.errors import InvalidInput


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a clear 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.", code="invalid_json")
    return body
