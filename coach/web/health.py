"""Health for load balancers: whether the database answers, and the provider."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text

from coach.providers import provider
from coach.storage.database import get_db
from coach.web.openapi import documented
from coach.web.schemas import Health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@documented({200: Health, 503: Health}, public=True)
def healthz() -> tuple[dict[str, Any], int]:
    """Whether the database answers, and which provider is in use."""
    try:
        get_db().execute(text("SELECT 1"))
        healthy = True
    except Exception:  # any failure means "not ok"; the detail goes to the log
        healthy = False
    health = Health(
        status="ok" if healthy else "degraded",
        db="ok" if healthy else "unavailable",
        provider=provider().name,
    )
    return health.model_dump(mode="json"), 200 if healthy else 503
