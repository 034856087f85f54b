"""Who may see what in counselor review: an authorisation matrix over every
counselor route and every seeker route with a session in its path, for seeker A
(the owner), seeker B, a counselor, an admin and anonymous; shared and unshared
sessions; consent withdrawn mid-way. And the audit log: exactly one line per read,
export, note and change of consent."""

from __future__ import annotations

import re

import pytest

from tests.counsel_actions import Cast, audit_count, share

COUNSELOR_ROUTES = [
    ("GET", "/api/v1/counselor/sessions/{id}", None),
    ("GET", "/api/v1/counselor/sessions/{id}/transcript.md", None),
    ("POST", "/api/v1/counselor/sessions/{id}/notes", {"body": "A note"}),
]
EXPECTED = {
    # caller: (shared session, unshared session)
    "counselor": (None, 404),  # None: the route's success status
    "seeker_a": (403, 403),
    "seeker_b": (403, 403),
    "admin": (403, 403),
    "anonymous": (401, 401),
}


@pytest.fixture
def cast(app, api):
    return Cast(app, api)


@pytest.mark.parametrize(("method", "path", "body"), COUNSELOR_ROUTES)
@pytest.mark.parametrize("who", list(EXPECTED))
def test_counselor_routes_answer_only_a_counselor_and_only_for_shared_sessions(
    cast, who, method, path, body
):
    on_shared = cast.call(who, method, path.format(id=cast.shared_id), body)
    on_unshared = cast.call(who, method, path.format(id=cast.unshared_id), body)
    on_missing = cast.call(who, method, path.format(id=cast.missing_id), body)
    shared_status, unshared_status = EXPECTED[who]
    if shared_status is None:
        assert on_shared.status_code in (200, 201), on_shared.data
    else:
        assert on_shared.status_code == shared_status
    assert on_unshared.status_code == unshared_status
    # Unshared and nonexistent cannot be told apart.
    assert on_unshared.status_code == on_missing.status_code
    assert on_unshared.get_data() == on_missing.get_data()
    for response in (on_shared, on_unshared):
        assert b"private to me" not in response.get_data()


@pytest.mark.parametrize("who", list(EXPECTED))
def test_the_dashboard_lists_shared_sessions_to_counselors_only(cast, who):
    response = cast.call(who, "GET", "/api/v1/counselor/sessions")
    if who == "counselor":
        assert response.status_code == 200
        assert [s["id"] for s in response.json["items"]] == [cast.shared_id]
    else:
        assert response.status_code == (401 if who == "anonymous" else 403)
        assert "items" not in response.json


def _session_routes(app):
    """Every seeker API route with a session id in its path, and its methods."""
    for rule in app.url_map.iter_rules():
        if "session_id" in rule.arguments and rule.rule.startswith("/api/v1/sessions/"):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield method, rule.rule.replace("<int(max=2147483647):session_id>", "{id}")


SEEKER_BODIES = {"PATCH": {"title": "Taken over"}, "POST": {"content": "hello"}}


def test_every_seeker_route_treats_another_callers_session_as_missing(app, cast):
    routes = list(_session_routes(app))
    assert len(routes) >= 10, routes  # the walk found the routes
    for method, path in routes:
        body = SEEKER_BODIES.get(method)
        for who in ("seeker_b", "counselor", "admin", "anonymous"):
            for session_id in (cast.shared_id, cast.unshared_id):
                theirs = cast.call(who, method, path.format(id=session_id), body)
                missing = cast.call(who, method, path.format(id=cast.missing_id), body)
                where = f"{who} {method} {path} on {session_id}"
                assert theirs.status_code >= 400, where
                assert theirs.status_code == missing.status_code, where
                assert theirs.get_data() == missing.get_data(), where
    # Nothing any of them did changed or deleted seeker A's session.
    assert cast.api.session(cast.seeker_a, cast.shared_id)["title"] != "Taken over"


def test_withdrawing_consent_ends_the_counselors_access_at_once(cast):
    path = f"/api/v1/counselor/sessions/{cast.shared_id}"
    assert cast.call("counselor", "GET", path).status_code == 200
    note = cast.call(
        "counselor", "POST", f"{path}/notes", {"body": "Well done", "visible_to_seeker": True}
    )
    assert note.status_code == 201
    share(cast.api, cast.seeker_a, cast.shared_id, shared=False)
    missing = f"/api/v1/counselor/sessions/{cast.missing_id}"
    for method, suffix, body in [
        ("GET", "", None),
        ("GET", "/transcript.md", None),
        ("POST", "/notes", {"body": "Another"}),
    ]:
        after = cast.call("counselor", method, path + suffix, body)
        assert after.status_code == 404
        assert after.get_data() == cast.call("counselor", method, missing + suffix, body).get_data()
    listing = cast.call("counselor", "GET", "/api/v1/counselor/sessions")
    assert listing.json["items"] == []
    # The seeker keeps the note they were shown.
    notes = cast.call("seeker_a", "GET", f"/api/v1/sessions/{cast.shared_id}/notes")
    assert [n["body"] for n in notes.json["items"]] == ["Well done"]
    # Sharing again gives access back.
    share(cast.api, cast.seeker_a, cast.shared_id)
    assert cast.call("counselor", "GET", path).status_code == 200


def test_the_seeker_sees_only_notes_marked_visible(cast):
    path = f"/api/v1/counselor/sessions/{cast.shared_id}/notes"
    cast.call("counselor", "POST", path, {"body": "For counselors only"})
    cast.call("counselor", "POST", path, {"body": "For you", "visible_to_seeker": True})
    seen = cast.call("seeker_a", "GET", f"/api/v1/sessions/{cast.shared_id}/notes")
    assert [n["body"] for n in seen.json["items"]] == ["For you"]
    other = cast.call("seeker_b", "GET", f"/api/v1/sessions/{cast.shared_id}/notes")
    assert other.status_code == 404


def test_the_seekers_export_carries_the_notes_shown_to_them_and_no_other(cast):
    path = f"/api/v1/counselor/sessions/{cast.shared_id}/notes"
    cast.call("counselor", "POST", path, {"body": "For counselors only"})
    cast.call("counselor", "POST", path, {"body": "For you", "visible_to_seeker": True})
    exported = cast.call("seeker_a", "GET", "/api/v1/me/export").json
    assert [(n["body"], n["session_id"]) for n in exported["notes"]] == [
        ("For you", cast.shared_id)
    ]
    assert cast.call("seeker_b", "GET", "/api/v1/me/export").json["notes"] == []


def test_a_note_on_a_message_of_another_session_is_refused(cast):
    other = cast.api.session(cast.seeker_a, cast.unshared_id)["messages"][0]["id"]
    response = cast.call(
        "counselor",
        "POST",
        f"/api/v1/counselor/sessions/{cast.shared_id}/notes",
        {"body": "x", "message_id": other},
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "no_such_message"


def test_the_audit_log_has_one_line_per_read_export_note_and_consent_change(app, cast):
    base = f"/api/v1/counselor/sessions/{cast.shared_id}"
    before = audit_count(app)
    assert audit_count(app, "consent_given") == 1  # the Cast shared one session
    cast.call("counselor", "GET", base)
    assert audit_count(app, "transcript_read") == 1
    cast.call("counselor", "GET", base + "/transcript.md")
    assert audit_count(app, "transcript_export") == 1
    cast.call("counselor", "POST", base + "/notes", {"body": "Noted"})
    assert audit_count(app, "note_added") == 1
    share(cast.api, cast.seeker_a, cast.shared_id, shared=False)
    assert audit_count(app, "consent_withdrawn") == 1
    share(cast.api, cast.seeker_a, cast.shared_id, shared=False)  # no change: no line
    # Refused reads, the dashboard and a seeker's own reads leave no line.
    cast.call("counselor", "GET", f"/api/v1/counselor/sessions/{cast.unshared_id}")
    cast.call("counselor", "GET", base)  # now unshared
    cast.call("seeker_b", "GET", base)
    cast.call("counselor", "GET", "/api/v1/counselor/sessions")
    cast.api.session(cast.seeker_a, cast.shared_id)
    assert audit_count(app) == before + 4


def test_the_audit_log_is_for_admins_to_read_and_export_and_nobody_to_change(app, cast):
    cast.call("counselor", "GET", f"/api/v1/counselor/sessions/{cast.shared_id}")
    page = cast.call("admin", "GET", "/api/v1/admin/audit")
    assert page.status_code == 200
    actions = [line["action"] for line in page.json["items"]]
    assert actions == ["transcript_read", "consent_given"]
    # The counselor who read is named; the seeker who consented stays pseudonymous.
    emails = [line["actor_email"] for line in page.json["items"]]
    assert emails == ["counselor@example.org", None]
    exported = cast.call("admin", "GET", "/api/v1/admin/audit.csv")
    assert exported.status_code == 200
    rows = exported.get_data(as_text=True).splitlines()
    assert rows[0] == "id,created_at,actor_id,actor_role,actor_email,action,session_id,detail"
    assert len(rows) == 3 and ",counselor,counselor@example.org,transcript_read," in rows[2]
    for who in ("counselor", "seeker_a", "anonymous"):
        assert cast.call(who, "GET", "/api/v1/admin/audit").status_code in (401, 403)
        assert cast.call(who, "GET", "/api/v1/admin/audit.csv").status_code in (401, 403)
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert (rule.methods or set()) <= {"GET", "HEAD", "OPTIONS"}, rule.rule


@pytest.mark.parametrize("number", [9_223_372_036_854_775_808, 10**23, 2_147_483_648, 0])
def test_an_id_no_database_can_hold_is_bad_input_not_a_500(cast, number):
    note = cast.call(
        "counselor",
        "POST",
        f"/api/v1/counselor/sessions/{cast.shared_id}/notes",
        {"body": "x", "message_id": number},
    )
    assert note.status_code == 400 and note.json["error"]["code"] == "invalid_input"
    audit = cast.call("admin", "GET", f"/api/v1/admin/audit?before={number}")
    assert audit.status_code == 400 and audit.json["error"]["code"] == "invalid_input"


def test_the_markdown_export_holds_the_whole_record_and_no_markup_nobody_wrote(cast):
    """Seeker and model text is untrusted: in the export their HTML, links and code
    are plain text, as the title and the notes were; and every list of the record
    is there, the employer's feedback included."""
    token = cast.seeker_a
    for said in (
        "I feel gutted.",
        "Yes, that's right",
        "They said my SQL was weak. <script>alert(1)</script> [x](javascript:alert(1))",
    ):
        cast.api.send(token, cast.shared_id, said)
    exported = cast.call(
        "counselor", "GET", f"/api/v1/counselor/sessions/{cast.shared_id}/transcript.md"
    ).get_data(as_text=True)
    # Each active character is escaped: none is left bare before the words.
    assert not re.search(r"(?<!\\)<script", exported)
    assert not re.search(r"(?<!\\)\]\(javascript:", exported)
    assert "\\<script\\>alert(1)\\</script\\>" in exported
    assert "- Feedback: They said my SQL was weak." in exported


def test_a_search_of_the_transcripts_is_audited_with_its_words(app, cast):
    """Which shared conversations hold a word is read from the transcripts."""
    before = audit_count(app, "transcript_search")
    listed = cast.call("counselor", "GET", "/api/v1/counselor/sessions")
    assert listed.status_code == 200 and audit_count(app, "transcript_search") == before
    found = cast.call("counselor", "GET", "/api/v1/counselor/sessions?q=interview")
    assert [s["id"] for s in found.json["items"]] == [cast.shared_id]
    assert audit_count(app, "transcript_search") == before + 1
    lines = cast.call("admin", "GET", "/api/v1/admin/audit").json["items"]
    searched = next(line for line in lines if line["action"] == "transcript_search")
    assert searched["detail"] == 'searched "interview": 1 sessions matched'
    assert searched["session_id"] is None
