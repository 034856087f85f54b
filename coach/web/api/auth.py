"""Sign-in for API clients: guest seekers and users with a password."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from coach.errors import InvalidInput
from coach.storage.database import get_db
from coach.web.api.requests import json_body
from coach.web.auth import create_guest, log_in
from coach.web.limits import limiter
from coach.web.representations import user_json

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.post("/guest")
@limiter.limit("20 per hour")
def create_guest_user() -> tuple[dict[str, Any], int]:
    """Create a guest seeker and return a bearer token for it."""
    user, token = create_guest(get_db(), with_token=True)
    return {"token": token, "user": user_json(user)}, 201


@bp.post("/login")
@limiter.limit("10 per minute")
def login() -> dict[str, Any]:
    """Exchange an email and password for a bearer token."""
    body = json_body()
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise InvalidInput('"email" and "password" must be strings.')
    user, token = log_in(get_db(), email, password)
    return {"token": token, "user": user_json(user)}
