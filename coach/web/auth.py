"""Who is asking: bearer tokens for API clients, the cookie session for the browser,
and the CSRF check that cookie-authenticated requests must pass.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask, current_app, g, request, session
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from coach.errors import Forbidden, InvalidInput, NotAuthenticated
from coach.storage.database import short_transaction
from coach.storage.models import ROLES, ApiToken, User
from coach.storage.text import require_storable

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
DUMMY_HASH_KEY = "coach.web.auth.dummy_hash"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
MIN_PASSWORD_LENGTH = 10


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(db: Session, user: User) -> str:
    token = secrets.token_urlsafe(32)
    if user.id is None:
        db.flush()  # a new user needs its id; by id, the user's other tokens stay unloaded
    db.add(ApiToken(user_id=user.id, token_hash=_hash_token(token)))
    return token


def create_guest(db: Session, *, with_token: bool) -> tuple[User, str | None]:
    """A seeker without a password; API clients get a token, browsers use the cookie."""
    user = User(role="seeker", is_guest=True)
    db.add(user)
    token = issue_token(db, user) if with_token else None
    db.commit()
    return user, token


def create_user(db: Session, email: str, password: str, role: str) -> User:
    # From the command line too, where undecodable bytes arrive as lone surrogates.
    email = require_storable(email, "The email address").strip().lower()
    # Never stored itself, but hashing needs its UTF-8 form.
    require_storable(password, "The password")
    if "@" not in email:
        raise InvalidInput("An email address is needed.")
    if role not in ROLES:
        raise InvalidInput(f"The role must be one of {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if db.scalar(select(User).where(User.email == email)):
        raise InvalidInput(f"A user with the email {email} exists already.")
    user = User(email=email, password_hash=generate_password_hash(password), role=role)
    db.add(user)
    db.commit()
    return user


def log_in(db: Session, email: str, password: str) -> tuple[User, str]:
    user = db.scalar(select(User).where(User.email == email.strip().lower()))
    # A stand-in hash for unknown emails, so that timing does not tell which exist.
    stored_hash = (user.password_hash if user else None) or _dummy_hash()
    # End the transaction before the deliberately slow hash check: on SQLite it
    # would otherwise hold the database's write lock all the while.
    db.commit()
    # Checked first, whoever asks: an unknown email costs the same hash check.
    matches = check_password_hash(stored_hash, password)
    if user is None or not user.password_hash or not matches:
        raise NotAuthenticated("The email or password is wrong.", code="bad_credentials")
    token = issue_token(db, user)
    db.commit()
    return user, token


def _dummy_hash() -> str:
    """A hash of nothing anyone knows, made on the first login rather than at start-up
    (hashing is deliberately slow)."""
    if DUMMY_HASH_KEY not in current_app.extensions:
        current_app.extensions[DUMMY_HASH_KEY] = generate_password_hash(secrets.token_urlsafe(16))
    dummy: str = current_app.extensions[DUMMY_HASH_KEY]
    return dummy


def sign_in_browser(user: User) -> None:
    """Tie the user to this browser's cookie session, with a fresh CSRF token."""
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session[CSRF_FORM_FIELD] = secrets.token_urlsafe(32)


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def current_user() -> User | None:
    """The caller, from a bearer token or the cookie session; None for anonymous."""
    if "current_user" in g:
        found: User | None = g.current_user
        return found
    token = _bearer_token()
    user: User | None = None
    # A read of its own, finished at once: on SQLite the request's session may
    # begin as a write, and nothing should hold the write lock while a body
    # arrives or a reply is written.
    with short_transaction(current_app, read_only=True) as db:
        if token is not None:
            user = db.scalar(
                select(User).join(ApiToken).where(ApiToken.token_hash == _hash_token(token))
            )
            if user is None:
                raise NotAuthenticated("The token is not valid.", code="bad_token")
        elif isinstance(session.get("user_id"), int):
            user = db.get(User, session["user_id"])
    g.current_user = user
    return user


def revoke_credentials(db: Session) -> None:
    """Revoke the bearer token this request came with; a browser, which has none,
    is signed out instead."""
    token = _bearer_token()
    if token is None:
        session.clear()
        return
    db.execute(delete(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    db.commit()


def require_user() -> User:
    user = current_user()
    if user is None:
        raise NotAuthenticated("Sign in or start as a guest first.")
    return user


def csrf_token() -> str:
    if CSRF_FORM_FIELD not in session:
        session[CSRF_FORM_FIELD] = secrets.token_urlsafe(32)
    token: str = session[CSRF_FORM_FIELD]
    return token


def check_csrf() -> None:
    """Unsafe requests that rely on the cookie must carry the session's CSRF token.

    A request with a bearer token carries no ambient authority, so it needs none;
    neither does an API call from a client with no signed-in cookie session.
    """
    if request.method not in UNSAFE_METHODS or _bearer_token() is not None:
        return
    if request.blueprint != "pages" and "user_id" not in session:
        return
    expected = session.get(CSRF_FORM_FIELD)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FORM_FIELD)
    if not expected or not sent or not hmac.compare_digest(str(expected).encode(), sent.encode()):
        raise Forbidden("The CSRF token is missing or wrong; reload the page.", code="csrf_failed")


def init_app(app: Flask) -> None:
    app.before_request(check_csrf)
