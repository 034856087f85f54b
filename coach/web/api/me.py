"""The caller's own data: everything stored about them, and deleting all of it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, session

from coach.coaching.privacy import delete_everything, export_everything
from coach.counsel.notes import export_notes
from coach.plans.templates import plan_templates
from coach.plans.tracking import export_plans
from coach.storage.database import get_db
from coach.web.auth import require_user
from coach.web.openapi import documented
from coach.web.schemas import Export

bp = Blueprint("me", __name__, url_prefix="/me")


@bp.get("/export")
@documented({200: Export})
def export() -> dict[str, Any]:
    """Everything stored about the caller, as JSON."""
    db, user = get_db(), require_user()
    data = export_everything(db, user) | export_plans(db, user, plan_templates().disclaimer)
    data |= export_notes(db, user)
    return Export.model_validate(data).model_dump(mode="json")


@bp.delete("")
@documented({204: None})
def delete() -> tuple[str, int]:
    """Delete the caller and everything they stored."""
    delete_everything(current_app, require_user().id)
    session.clear()  # a browser's cookie named the user who is gone
    return "", 204
