"""Health for load balancers and orchestrators: `/healthz` (the database and the
provider, kept for the load balancers that use it), `/livez` (the process answers:
restart it if not) and `/readyz` (it can serve a seeker now: send it traffic,
`coach.web.readiness` says what that takes)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app
from sqlalchemy import text

from coach.providers import provider
from coach.storage.database import get_db
from coach.web.openapi import documented
from coach.web.readiness import check_readiness
from coach.web.schemas import Health, Liveness, ReadinessReport

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


@bp.get("/livez")
@documented({200: Liveness}, public=True)
def livez() -> dict[str, Any]:
    """The process answers requests; it checks nothing else, so that a database
    outage never gets a healthy process restarted."""
    return Liveness(status="ok").model_dump(mode="json")


@bp.get("/readyz")
@documented({200: ReadinessReport, 503: ReadinessReport}, public=True)
def readyz() -> tuple[dict[str, Any], int]:
    """Whether this instance can serve now: the database, Redis when set, the prompts
    and the page templates. A Redis outage alone leaves it ready but degraded."""
    readiness = check_readiness(current_app)
    report = ReadinessReport(status=readiness.status, checks=readiness.checks)
    return report.model_dump(mode="json"), 200 if readiness.ready else 503
