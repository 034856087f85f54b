"""The authorisation matrix over the browser pages (the API's is in
tests/test_counsel_access.py): the counselor pages, the note form, the admin's audit
page and seeker A's own pages, for a counselor, an admin, seeker B and anonymous,
signed in with the cookie session as a browser is. No page shows an unshared
session, and an unshared one looks exactly like one that does not exist."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.counsel_actions import Cast, browser_login, csrf_token

PRIVATE = b"private to me"
SHARED_WORDS = b"second interview"
# caller: the status of (shared transcript, unshared or missing transcript, note form on
# the shared one, on the unshared one, dashboard, audit page); 302/303: sent to the
# login page.
EXPECTED = {
    "counselor": (200, 404, 303, 404, 200, 403),
    "admin": (403, 403, 403, 403, 403, 200),
    "seeker_b": (403, 403, 403, 403, 403, 403),
    "anonymous": (302, 302, 303, 303, 302, 302),
}
SEEKER_PAGES = ("/chat/{id}", "/chat/{id}/plan")


@pytest.fixture
def cast(app, api):
    return Cast(app, api)


def signed_in(app: Any, who: str) -> FlaskClient:
    client = app.test_client()
    if who in ("counselor", "admin"):
        assert browser_login(client, f"{who}@example.org").status_code == 303
    elif who == "seeker_b":
        client.post("/start", data={"csrf_token": csrf_token(client)})
    return client


@pytest.mark.parametrize("who", list(EXPECTED))
def test_counselor_and_admin_pages_answer_only_their_role(app, cast, who):
    client = signed_in(app, who)
    shared, hidden, note, hidden_note, dashboard, audit = EXPECTED[who]
    transcript = client.get(f"/counselor/sessions/{cast.shared_id}")
    assert transcript.status_code == shared
    assert (SHARED_WORDS in transcript.data) == (shared == 200)
    unshared = client.get(f"/counselor/sessions/{cast.unshared_id}")
    missing = client.get(f"/counselor/sessions/{cast.missing_id}")
    assert unshared.status_code == missing.status_code == hidden
    assert PRIVATE not in unshared.data
    posted = client.post(
        f"/counselor/sessions/{cast.shared_id}/notes",
        data={"body": "A note", "csrf_token": csrf_token(client)},
    )
    assert posted.status_code == note
    if who == "counselor":
        assert posted.headers["Location"].endswith("#session-notes")
    else:
        assert (
            cast.call("counselor", "GET", f"/api/v1/counselor/sessions/{cast.shared_id}").json[
                "notes"
            ]
            == []
        )
    on_unshared = client.post(
        f"/counselor/sessions/{cast.unshared_id}/notes",
        data={"body": "A note", "csrf_token": csrf_token(client)},
    )
    assert on_unshared.status_code == hidden_note
    listing = client.get("/counselor")
    assert listing.status_code == dashboard
    assert PRIVATE not in listing.data
    assert client.get("/admin/audit").status_code == audit


@pytest.mark.parametrize("who", ["counselor", "admin", "seeker_b"])
@pytest.mark.parametrize("page", SEEKER_PAGES)
def test_seeker_pages_of_another_persons_session_are_missing(app, cast, who, page):
    client = signed_in(app, who)
    for session_id in (cast.shared_id, cast.unshared_id):
        theirs = client.get(page.format(id=session_id))
        missing = client.get(page.format(id=cast.missing_id))
        assert theirs.status_code == missing.status_code == 404, (who, page, session_id)
        assert PRIVATE not in theirs.data and SHARED_WORDS not in theirs.data


def test_the_transcript_page_shows_the_record_and_the_replies_as_the_seeker_saw_them(
    app, api, cast
):
    """The record the seeker confirmed is on the page (it used to read "none" for
    every list), and the coach's Markdown is rendered as on the seeker's page, with
    the seeker's own markup escaped."""
    token = cast.seeker_a
    api.send(token, cast.shared_id, "I feel gutted.")
    api.send(token, cast.shared_id, "Yes, that's right")
    api.send(token, cast.shared_id, "They said my SQL was weak. <script>alert(1)</script>")
    record = cast.call("counselor", "GET", f"/api/v1/counselor/sessions/{cast.shared_id}").json[
        "reflection"
    ]
    assert record["emotions"]  # something to show
    page = (
        signed_in(app, "counselor")
        .get(f"/counselor/sessions/{cast.shared_id}")
        .get_data(as_text=True)
    )
    heading = page.index('id="record-heading"')
    shown = page[heading : page.index("</section>", heading)]
    assert record["emotions"][0] in shown
    assert "They said my SQL was weak." in shown  # the feedback, recorded as said
    assert "<strong>" in page and "**" not in page.split('id="record-heading"')[0]
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert " UTC</time>" in page


@pytest.mark.parametrize("given", ["99999999999999999999999", "abc", "-3"])
def test_the_note_form_refuses_a_message_that_cannot_be_one(app, cast, given):
    client = signed_in(app, "counselor")
    answered = client.post(
        f"/counselor/sessions/{cast.shared_id}/notes",
        data={"body": "A note", "message_id": given, "csrf_token": csrf_token(client)},
    )
    assert answered.status_code == 400
    notes = cast.call("counselor", "GET", f"/api/v1/counselor/sessions/{cast.shared_id}")
    assert notes.json["notes"] == []  # not filed on the whole session instead


def test_the_audit_page_refuses_a_line_number_no_database_can_hold(app, cast):
    client = signed_in(app, "admin")
    assert client.get("/admin/audit?before=99999999999999999999999").status_code == 400
    assert client.get("/admin/audit?before=12").status_code == 200
