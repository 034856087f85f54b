"""Health for load balancers: whether the database answers, and the provider."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text

from coach.providers import provider
from coach.storage.database import get_db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    """Whether the database answers, and which provider is in use."""
    try:
        get_db().execute(text("SELECT 1"))
        db_status = "ok"
    except Exception:  # any failure means "not ok"; the detail goes to the log
        db_status = "unavailable"
    body = {
        "status": "ok" if db_status == "ok" else "degraded",
        "db": db_status,
        "provider": provider().name,
    }
    return body, 200 if db_status == "ok" else 503
