"""Sign-in for API clients: guest seekers and users with a password."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from coach.storage.database import get_db
from coach.web.api.requests import parse_body
from coach.web.auth import create_guest, log_in, require_user, revoke_credentials
from coach.web.limits import address_key, guests_per_address, limiter, login_limit
from coach.web.openapi import documented
from coach.web.representations import token_grant_json
from coach.web.schemas import Login, TokenGrant

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.post("/guest")
@documented({201: TokenGrant}, public=True, errors=(429, 503))
@guests_per_address
def create_guest_user() -> tuple[dict[str, Any], int]:
    """Create a guest seeker and return a bearer token for it."""
    user, token = create_guest(get_db(), with_token=True)
    assert token is not None  # asked for with_token
    return token_grant_json(user, token), 201


@bp.post("/login")
@documented({200: TokenGrant}, body=Login, public=True, errors=(401, 429, 503))
@limiter.limit(login_limit, key_func=address_key)
def login() -> dict[str, Any]:
    """Exchange an email and password for a bearer token."""
    credentials = parse_body(Login)
    user, token = log_in(get_db(), credentials.email, credentials.password)
    return token_grant_json(user, token)


@bp.delete("/token")
@documented({204: None})
def revoke_token() -> tuple[str, int]:
    """Revoke the bearer token used (a browser's cookie session is signed out)."""
    require_user()
    revoke_credentials(get_db())
    return "", 204
