"""What an admin may read: counts, never a seeker's data."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from coach.errors import Forbidden
from coach.safety.referrals import referrals_by_day
from coach.storage.database import get_db
from coach.web.auth import require_user
from coach.web.openapi import documented
from coach.web.schemas import Referrals

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/safety/referrals")
@documented({200: Referrals}, errors=(403,))
def referrals() -> dict[str, Any]:
    """Crisis referrals by day, with no personal data."""
    if require_user().role != "admin":
        raise Forbidden("Only an admin may read this.", code="admins_only")
    days = [{"day": day, "crisis": count} for day, count in referrals_by_day(get_db())]
    return Referrals.model_validate({"days": days}).model_dump(mode="json")
