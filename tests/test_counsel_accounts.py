"""Accounts for counselor review: tokens that expire and can be revoked, a guest
made into a full account that keeps its sessions, the browser's login page and
logout, `/start` that never takes over a user it did not sign in here, CSRF on the
counselors' cookie-authenticated requests, and notes that never reach the model."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from coach.coaching.background import background
from coach.guide.record import ReflectionRecord
from coach.storage.database import database
from coach.storage.models import ApiToken, CoachingSession, User
from tests.conftest import ApiActions, make_openai_app
from tests.counsel_actions import PASSWORD, browser_login, csrf_token, login, make_user, share


def _age_tokens(app, **values):
    with database(app).make_session() as db:
        db.execute(update(ApiToken).values(**values))
        db.commit()


def test_an_expired_token_is_refused(app, api):
    token = api.guest()
    assert api.client.get("/api/v1/sessions", headers=api.headers(token)).status_code == 200
    _age_tokens(app, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    response = api.client.get("/api/v1/sessions", headers=api.headers(token))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "bad_token"


def test_a_new_token_expires_after_the_configured_hours(app_factory):
    app = app_factory(COACH_TOKEN_TTL_HOURS=2)
    ApiActions(app.test_client()).guest()
    with database(app).make_session() as db:
        issued = db.scalars(select(ApiToken)).one()
        lifetime = issued.expires_at.replace(tzinfo=UTC) - issued.created_at.replace(tzinfo=UTC)
    assert timedelta(hours=2) - timedelta(seconds=5) < lifetime <= timedelta(hours=2)


@pytest.mark.parametrize(("age_hours", "status"), [(1, 200), (24 * 31, 401)])
def test_a_token_from_before_expiry_existed_is_judged_by_its_age(app, api, age_hours, status):
    token = api.guest()
    _age_tokens(app, expires_at=None, created_at=datetime.now(UTC) - timedelta(hours=age_hours))
    assert api.client.get("/api/v1/sessions", headers=api.headers(token)).status_code == status


def test_a_revoked_token_is_refused_at_once_and_other_tokens_go_on(app, api):
    make_user(app, "seeker@example.org", "seeker")
    first, second = login(api, "seeker@example.org"), login(api, "seeker@example.org")
    revoked = api.client.delete("/api/v1/auth/token", headers=api.headers(first))
    assert revoked.status_code == 204
    assert api.client.get("/api/v1/sessions", headers=api.headers(first)).status_code == 401
    assert api.client.delete("/api/v1/auth/token", headers=api.headers(first)).status_code == 401
    assert api.client.get("/api/v1/sessions", headers=api.headers(second)).status_code == 200
    assert api.client.delete("/api/v1/auth/token").status_code == 401


def test_a_guest_becomes_a_full_account_and_keeps_their_sessions(app, api):
    guest = api.guest()
    session_id = api.new_session(guest)
    made = api.client.post(
        "/api/v1/auth/account",
        headers=api.headers(guest),
        json={"email": "Me@Example.org", "password": PASSWORD, "display_name": "Sam"},
    )
    assert made.status_code == 200, made.json
    assert made.json["is_guest"] is False
    assert made.json["email"] == "me@example.org"
    token = login(api, "me@example.org")
    listing = api.client.get("/api/v1/sessions", headers=api.headers(token))
    assert [s["id"] for s in listing.json["items"]] == [session_id]
    again = api.client.post(
        "/api/v1/auth/account",
        headers=api.headers(token),
        json={"email": "other@example.org", "password": PASSWORD},
    )
    assert again.status_code == 400
    assert again.json["error"]["code"] == "not_a_guest"


@pytest.mark.parametrize(
    ("email", "password", "status", "code"),
    [
        ("@", PASSWORD, 400, "invalid_input"),
        ("taken@example.org", PASSWORD, 409, "email_taken"),
        ("me@example.org", "short", 400, "invalid_input"),
    ],
)
def test_a_guest_account_needs_a_valid_free_email_and_password(
    app, api, email, password, status, code
):
    make_user(app, "taken@example.org", "seeker")
    guest = api.guest()
    response = api.client.post(
        "/api/v1/auth/account",
        headers=api.headers(guest),
        json={"email": email, "password": password},
    )
    assert response.status_code == status
    assert response.json["error"]["code"] == code


# The browser --------------------------------------------------------------------------


def test_the_login_page_signs_a_counselor_in_and_out(app, client):
    make_user(app, "counselor@example.org", "counselor")
    assert client.get("/login").status_code == 200
    wrong = browser_login(client, "counselor@example.org", "not the password")
    assert wrong.status_code == 401
    assert b"The email or password is wrong." in wrong.data
    right = browser_login(client, "counselor@example.org")
    assert right.status_code == 303
    assert right.headers["Location"].endswith("/counselor")
    assert client.get("/counselor").status_code == 200
    with client.session_transaction() as cookie:
        token = cookie["csrf_token"]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/counselor").status_code == 302  # to the login page


def test_the_login_page_needs_its_csrf_token(app, client):
    make_user(app, "counselor@example.org", "counselor")
    client.get("/login")
    response = client.post("/login", data={"email": "counselor@example.org", "password": PASSWORD})
    assert response.status_code == 403


def _start(client):
    token = csrf_token(client)
    response = client.post("/start", data={"csrf_token": token})
    assert response.status_code == 303
    session_id = int(re.search(r"/chat/(\d+)", response.headers["Location"]).group(1))
    with database(client.application).make_session() as db:
        return db.get_one(CoachingSession, session_id).owner_id


def test_start_keeps_the_guest_it_signed_in_in_this_browser(client):
    assert _start(client) == _start(client)


def test_start_never_takes_over_a_user_it_did_not_sign_in_here(app, client, api):
    api.guest()
    with database(app).make_session() as db:
        someone = db.scalars(select(User)).one().id
    # A cookie naming a user, without this app's sign-in mark for this browser.
    with client.session_transaction() as cookie:
        cookie["user_id"] = someone
    assert _start(client) != someone


def test_start_signed_in_as_a_counselor_starts_a_fresh_guest(app, client):
    make_user(app, "counselor@example.org", "counselor")
    browser_login(client, "counselor@example.org")
    with database(app).make_session() as db:
        counselor_id = db.scalar(select(User.id).where(User.role == "counselor"))
    owner = _start(client)
    assert owner != counselor_id
    with database(app).make_session() as db:
        assert db.get_one(User, owner).role == "seeker"


def test_a_counselors_cookie_requests_need_the_csrf_token(app, client, api):
    make_user(app, "counselor@example.org", "counselor")
    seeker = api.guest()
    session_id = api.new_session(seeker)
    share(api, seeker, session_id)
    browser_login(client, "counselor@example.org")
    path = f"/api/v1/counselor/sessions/{session_id}/notes"
    assert client.post(path, json={"body": "x"}).status_code == 403
    form = f"/counselor/sessions/{session_id}/notes"
    assert client.post(form, data={"body": "x"}).status_code == 403
    with client.session_transaction() as cookie:
        token = cookie["csrf_token"]
    sent = client.post(path, json={"body": "x"}, headers={"X-CSRF-Token": token})
    assert sent.status_code == 201
    assert client.post(form, data={"body": "y", "csrf_token": token}).status_code == 303


# Notes and the model ------------------------------------------------------------------


def test_notes_are_never_sent_to_the_model(app_factory, fake_model):
    app = make_openai_app(app_factory, fake_model)
    api = ApiActions(app.test_client())
    make_user(app, "counselor@example.org", "counselor")
    counselor = login(api, "counselor@example.org")
    seeker = api.guest()
    session_id = api.new_session(seeker)
    share(api, seeker, session_id)
    secret = "ZEBRA-NOTE-7731"
    for visible in (True, False):
        response = api.client.post(
            f"/api/v1/counselor/sessions/{session_id}/notes",
            headers=api.headers(counselor),
            json={"body": f"{secret} visible={visible}", "visible_to_seeker": visible},
        )
        assert response.status_code == 201
    fake_model.enqueue_stream(["That sounds hard. ", "How are you feeling?"])
    fake_model.enqueue_json(json.dumps(ReflectionRecord().model_dump(mode="json")))
    events = api.send_streaming(seeker, session_id, "The rejection email came this morning.")
    assert events[-1][0] == "done"
    background(app).wait_idle()
    assert fake_model.requests, "the model was asked"
    for request in fake_model.requests:
        assert secret not in json.dumps(request.body)


def test_signing_out_ends_the_cookie_session_on_the_server_too(app, api):
    """A copy of the cookie taken before signing out (a shared computer, a proxy's
    log) no longer opens anything; signing in again works, and nothing is cached."""
    make_user(app, "counselor@example.org", "counselor")
    seeker = api.guest()
    shared = api.new_session(seeker)
    api.send(seeker, shared, "I did not get the job after the second interview")
    share(api, seeker, shared)
    browser = app.test_client()
    assert browser_login(browser, "counselor@example.org").status_code == 303
    page = browser.get(f"/counselor/sessions/{shared}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    copy = app.test_client()
    copy.set_cookie("session", browser.get_cookie("session").value)
    assert copy.get(f"/counselor/sessions/{shared}").status_code == 200  # the same cookie
    with browser.session_transaction() as cookie:
        token = cookie["csrf_token"]
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 303
    assert copy.get(f"/counselor/sessions/{shared}").status_code == 302  # to the login page
    assert copy.get(f"/api/v1/counselor/sessions/{shared}").status_code == 401
    again = app.test_client()
    assert browser_login(again, "counselor@example.org").status_code == 303
    assert again.get(f"/counselor/sessions/{shared}").status_code == 200
