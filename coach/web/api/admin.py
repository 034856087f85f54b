"""What an admin may read: counts and the audit log, never a seeker's words."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, stream_with_context

from coach.counsel.audit import audit_csv, audit_page
from coach.counsel.schema import AuditPage
from coach.errors import Forbidden
from coach.safety.referrals import referrals_by_day
from coach.storage.database import get_db
from coach.web.api.requests import parse_query
from coach.web.auth import require_user
from coach.web.openapi import Download, documented
from coach.web.schemas import AuditQuery, Referrals

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/safety/referrals")
@documented({200: Referrals}, errors=(403,))
def referrals() -> dict[str, Any]:
    """Crisis referrals by day, with no personal data."""
    _require_admin()
    days = [{"day": day, "crisis": count} for day, count in referrals_by_day(get_db())]
    return Referrals.model_validate({"days": days}).model_dump(mode="json")


@bp.get("/audit")
@documented({200: AuditPage}, query=AuditQuery, errors=(403,))
def audit() -> dict[str, Any]:
    """The audit log (reads, notes, consent changes), newest first, a page at a time."""
    _require_admin()
    query = parse_query(AuditQuery)
    return audit_page(get_db(), query.before, query.per_page).model_dump(mode="json")


@bp.get("/audit.csv")
@documented({200: Download("text/csv", "The whole audit log as CSV, oldest first.")}, errors=(403,))
def export_audit() -> Response:
    """The whole audit log as CSV."""
    _require_admin()
    response = Response(stream_with_context(audit_csv(get_db())), content_type="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response


def _require_admin() -> None:
    if require_user().role != "admin":
        raise Forbidden("Only an admin may read this.", code="admins_only")
