"""Sign-in for API clients: guest seekers and users with a password, revoking a
token, and a guest's account made full with an email and password."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from coach.errors import InvalidInput
from coach.storage.database import get_db
from coach.web.api.requests import parse_body
from coach.web.auth import (
    bearer_token,
    create_guest,
    log_in,
    make_account,
    require_user,
    revoke_token,
)
from coach.web.limits import address_key, guests_per_address, limiter, login_limit
from coach.web.openapi import documented
from coach.web.representations import token_grant_json, user_json
from coach.web.schemas import Account, Login, TokenGrant, User

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
@documented({204: None}, errors=(400,))
def revoke() -> tuple[str, int]:
    """Revoke the bearer token this request carries; it is refused from now on."""
    require_user()
    token = bearer_token()
    if token is None:
        raise InvalidInput("Only a bearer token can be revoked.", code="no_token")
    revoke_token(token)
    return "", 204


@bp.post("/account")
@documented({200: User}, body=Account, errors=(409, 429))
@limiter.limit(login_limit, key_func=address_key)
def make_full_account() -> dict[str, Any]:
    """Give the caller's guest account an email and password, keeping its sessions."""
    guest = require_user()
    body = parse_body(Account)
    user = make_account(get_db(), guest, body.email, body.password, body.display_name)
    return user_json(user)
