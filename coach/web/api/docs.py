"""The API's own description: the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from coach.web.openapi import build_openapi

bp = Blueprint("docs", __name__)


@bp.get("/openapi.json")
def openapi() -> dict[str, Any]:
    """The OpenAPI 3 description of the JSON API."""
    return build_openapi()
