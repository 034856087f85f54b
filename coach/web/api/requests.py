"""Reading API requests: the JSON body and paging arguments, or a clear 400."""

from __future__ import annotations

import re
from typing import Any

from flask import request

from coach.errors import InvalidInput

# Ids beyond this are not ids of ours; the converter makes them a plain 404.
ID_CONVERTER = "int(max=2147483647)"


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a clear 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.", code="invalid_json")
    return body


def page_argument(name: str, default: int) -> int:
    raw = request.args.get(name, str(default))
    if not re.fullmatch(r"[0-9]{1,6}", raw):
        raise InvalidInput(f"{name} must be a positive whole number.")
    return int(raw)
