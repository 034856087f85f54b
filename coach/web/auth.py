"""Who is asking: bearer tokens for API clients (they expire, and can be revoked),
the cookie session for the browser, and the CSRF check that cookie-authenticated
requests must pass. Accounts: users made from the command line, logins, and a
guest turning into a full account with an email and password.

Passwords are hashed with Werkzeug's scrypt (its default); logins are rate-limited
per address (`coach.web.limits`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, g, request, session
from sqlalchemy import and_, bindparam, delete, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from coach.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated
from coach.storage.database import short_transaction
from coach.storage.models import ROLES, ApiToken, User
from coach.storage.text import require_storable
from coach.storage.timestamps import in_utc

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
DUMMY_HASH_KEY = "coach.web.auth.dummy_hash"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
MIN_PASSWORD_LENGTH = 10
MAX_EMAIL_CHARS = 320
# One address, as people type them: a local part, an @, and a domain with a dot in
# it; no spaces, no second @. Deliverability is the mail server's business.
EMAIL_PATTERN = re.compile(
    r"[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
# Marks a cookie session that this app signed someone into, in this browser.
BROWSER_MARK = "signed_in_here"
# When this cookie session was signed in (seconds since the epoch, UTC).
SIGNED_IN_AT = "signed_in_at"


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["COACH_TOKEN_TTL_HOURS"])


def issue_token(db: Session, user: User) -> str:
    token = secrets.token_urlsafe(32)
    if user.id is None:
        db.flush()  # a new user needs its id; by id, the user's other tokens stay unloaded
    expires_at = datetime.now(UTC) + _token_lifetime()
    db.add(ApiToken(user_id=user.id, token_hash=_hash_token(token), expires_at=expires_at))
    return token


def revoke_token(token: str) -> None:
    """End a token at once; the next request that shows it is a 401."""
    with short_transaction(current_app) as db:
        db.execute(delete(ApiToken).where(ApiToken.token_hash == _hash_token(token)))


def valid_email(email: str) -> str:
    """The address, trimmed and lowercased, or a 400."""
    # From the command line too, where undecodable bytes arrive as lone surrogates.
    email = require_storable(email, "The email address").strip().lower()
    if len(email) > MAX_EMAIL_CHARS or not EMAIL_PATTERN.fullmatch(email):
        raise InvalidInput("A valid email address is needed, such as name@example.org.")
    return email


def _valid_password(password: str) -> str:
    # Never stored itself, but hashing needs its UTF-8 form.
    require_storable(password, "The password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    return password


def create_guest(db: Session, *, with_token: bool) -> tuple[User, str | None]:
    """A seeker without a password; API clients get a token, browsers use the cookie."""
    user = User(role="seeker", is_guest=True)
    db.add(user)
    token = issue_token(db, user) if with_token else None
    db.commit()
    return user, token


def create_user(db: Session, email: str, password: str, role: str) -> User:
    email = valid_email(email)
    _valid_password(password)
    if role not in ROLES:
        raise InvalidInput(f"The role must be one of {', '.join(ROLES)}.")
    if db.scalar(select(User).where(User.email == email)):
        raise InvalidInput(f"A user with the email {email} exists already.")
    user = User(email=email, password_hash=generate_password_hash(password), role=role)
    db.add(user)
    db.commit()
    return user


def make_account(
    db: Session, guest: User, email: str, password: str, display_name: str | None
) -> User:
    """Give a guest seeker an email and password: the same user, so every session
    they had stays theirs."""
    if not guest.is_guest:
        raise InvalidInput("This account has an email and password already.", code="not_a_guest")
    email = valid_email(email)
    _valid_password(password)
    if display_name is not None:
        display_name = " ".join(require_storable(display_name, "The name").split())
    password_hash = generate_password_hash(password)  # slow: before the write begins
    user = db.get_one(User, guest.id)
    if db.scalar(select(User.id).where(User.email == email)):
        raise Conflict("Another account uses this email address.", code="email_taken")
    user.email, user.password_hash, user.is_guest = email, password_hash, False
    user.display_name = display_name or None
    db.commit()
    return user


def log_in(db: Session, email: str, password: str) -> tuple[User, str]:
    user = check_credentials(db, email, password)
    token = issue_token(db, user)
    db.commit()
    return user, token


def check_credentials(db: Session, email: str, password: str) -> User:
    """The user with this email and password, or a 401 that does not say which was wrong."""
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
    return user


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
    session[BROWSER_MARK] = True
    session[SIGNED_IN_AT] = datetime.now(UTC).timestamp()
    session[CSRF_FORM_FIELD] = secrets.token_urlsafe(32)


def sign_out_browser() -> None:
    """End the cookie session here and on the server: the signed cookie itself stays
    valid for its lifetime, so every cookie session of this user signed in before
    now is refused from here on (`current_user`), a copy kept elsewhere included."""
    user_id = session.get("user_id")
    if isinstance(user_id, int):
        with short_transaction(current_app) as db:
            user = db.get(User, user_id)
            if user is not None:
                user.signed_out_at = datetime.now(UTC)
    session.clear()
    g.pop("current_user", None)


def _signed_out_since(user: User) -> bool:
    """Whether this cookie session was signed in before the user last signed out."""
    if user.signed_out_at is None:
        return False
    signed_in = session.get(SIGNED_IN_AT)
    if not isinstance(signed_in, int | float):
        return True  # from before sign-in times were kept: older than any sign-out
    return signed_in <= in_utc(user.signed_out_at).timestamp()


def browser_seeker() -> User | None:
    """The seeker this browser's cookie names, if this app signed them in here; else
    None. `/start` keeps only such a user: a cookie session without the mark (made
    before it existed, or set some other way) and any counselor or admin start a
    fresh guest instead of a seeker conversation under someone else's name."""
    user = current_user()
    if user is None or user.role != "seeker" or bearer_token() is not None:
        return None
    return user if session.get(BROWSER_MARK) is True else None


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


# Every API request reads its caller by token: built once, since building the
# statement costs more than running it.
_USER_BY_TOKEN = (
    select(User)
    .join(ApiToken)
    .where(ApiToken.token_hash == bindparam("token_hash"))
    .where(
        or_(
            ApiToken.expires_at > bindparam("now"),
            # Issued before tokens had an expiry: judged by their age.
            and_(ApiToken.expires_at.is_(None), ApiToken.created_at > bindparam("issued_after")),
        )
    )
)


def current_user() -> User | None:
    """The caller, from a bearer token or the cookie session; None for anonymous."""
    if "current_user" in g:
        found: User | None = g.current_user
        return found
    token = bearer_token()
    user: User | None = None
    # A read of its own, finished at once: on SQLite the request's session may
    # begin as a write, and nothing should hold the write lock while a body
    # arrives or a reply is written.
    with short_transaction(current_app, read_only=True) as db:
        if token is not None:
            now = datetime.now(UTC)
            user = db.scalar(
                _USER_BY_TOKEN,
                {
                    "token_hash": _hash_token(token),
                    "now": now,
                    "issued_after": now - _token_lifetime(),
                },
            )
            if user is None:
                raise NotAuthenticated("The token is not valid or has expired.", code="bad_token")
        elif isinstance(session.get("user_id"), int):
            user = db.get(User, session["user_id"])
            if user is not None and _signed_out_since(user):
                user = None
    g.current_user = user
    return user


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
    if request.method not in UNSAFE_METHODS or bearer_token() is not None:
        return
    if request.blueprint != "pages" and "user_id" not in session:
        return
    expected = session.get(CSRF_FORM_FIELD)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FORM_FIELD)
    if not expected or not sent or not hmac.compare_digest(str(expected).encode(), sent.encode()):
        raise Forbidden("The CSRF token is missing or wrong; reload the page.", code="csrf_failed")


def init_app(app: Flask) -> None:
    app.before_request(check_csrf)
