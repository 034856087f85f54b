"""A counselor puts their own note right or takes it back, over the API and from the
transcript page: only its author may, on a session they may read, and the audit log
keeps a line for each change."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.conftest import ApiActions
from tests.counsel_actions import (
    Cast,
    audit_count,
    browser_login,
    csrf_token,
    login,
    make_user,
    share,
)


@pytest.fixture
def cast(app: Flask, api: ApiActions) -> Cast:
    return Cast(app, api)


def notes_path(cast: Cast) -> str:
    return f"/api/v1/counselor/sessions/{cast.shared_id}/notes"


def add(cast: Cast, body: str = "Typo in this nnote", **more: Any) -> dict[str, Any]:
    made = cast.call("counselor", "POST", notes_path(cast), {"body": body, **more})
    assert made.status_code == 201, made.json
    note: dict[str, Any] = made.json
    return note


def seeker_sees(cast: Cast) -> list[str]:
    shown = cast.call("seeker_a", "GET", f"/api/v1/sessions/{cast.shared_id}/notes")
    return [n["body"] for n in shown.json["items"]]


def test_the_author_changes_the_words_and_who_sees_them(cast: Cast):
    note = add(cast)
    path = f"{notes_path(cast)}/{note['id']}"
    changed = cast.call("counselor", "PATCH", path, {"body": "Typo in this note"})
    assert changed.status_code == 200, changed.json
    assert changed.json["body"] == "Typo in this note"
    assert changed.json["visible_to_seeker"] is False and changed.json["id"] == note["id"]
    assert note["edited_at"] is None and changed.json["edited_at"] is not None
    assert seeker_sees(cast) == []
    shown = cast.call("counselor", "PATCH", path, {"visible_to_seeker": True})
    assert shown.json["body"] == "Typo in this note"
    assert seeker_sees(cast) == ["Typo in this note"]
    transcript = cast.call("counselor", "GET", f"/api/v1/counselor/sessions/{cast.shared_id}")
    assert [n["body"] for n in transcript.json["notes"]] == ["Typo in this note"]
    assert audit_count(cast.app, "note_changed") == 2


def test_a_deleted_note_is_gone_for_the_seeker_and_its_audit_line_stays(cast: Cast):
    note = add(cast, "Shown by mistake", visible_to_seeker=True)
    assert seeker_sees(cast) == ["Shown by mistake"]
    path = f"{notes_path(cast)}/{note['id']}"
    assert cast.call("counselor", "DELETE", path).status_code == 204
    assert seeker_sees(cast) == []
    assert cast.call("counselor", "DELETE", path).status_code == 404
    assert audit_count(cast.app, "note_added") == 1
    assert audit_count(cast.app, "note_deleted") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, None),
        ({"body": ""}, "body"),
        ({"body": "x" * 4001}, "body"),
        ({"body": None}, "body"),
        ({"visible_to_seeker": None}, "visible_to_seeker"),
        ({"extra": 1}, None),
    ],
)
def test_a_change_that_changes_nothing_or_breaks_the_rules_is_a_400(cast: Cast, body, field):
    note = add(cast)
    answer = cast.call("counselor", "PATCH", f"{notes_path(cast)}/{note['id']}", body)
    assert answer.status_code == 400, answer.json
    if field:
        assert field in str(answer.json)
    assert audit_count(cast.app, "note_changed") == 0


def test_only_the_author_may_change_or_delete_and_other_sessions_notes_are_missing(
    app: Flask, api: ApiActions, cast: Cast
):
    note = add(cast)
    make_user(app, "second@example.org", "counselor")
    second = login(api, "second@example.org")
    path = f"{notes_path(cast)}/{note['id']}"
    headers = api.headers(second)
    refused = api.client.patch(path, headers=headers, json={"body": "Not mine"})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "not_your_note"
    assert api.client.delete(path, headers=headers).status_code == 403
    # Seekers, the admin and strangers: as for every counselor route.
    for who, status in (("seeker_a", 403), ("admin", 403), ("anonymous", 401)):
        assert cast.call(who, "PATCH", path, {"body": "Changed"}).status_code == status
        assert cast.call(who, "DELETE", path).status_code == status
    # The note through a session it is not on, or on a session no longer shared: 404.
    elsewhere = f"/api/v1/counselor/sessions/{cast.unshared_id}/notes/{note['id']}"
    assert cast.call("counselor", "PATCH", elsewhere, {"body": "Changed"}).status_code == 404
    assert cast.call("counselor", "PATCH", f"{path}0", {"body": "Changed"}).status_code == 404
    too_big = f"{notes_path(cast)}/99999999999"
    assert cast.call("counselor", "PATCH", too_big, {"body": "Changed"}).status_code == 404
    assert cast.call("counselor", "DELETE", too_big).status_code == 404
    still = cast.call("counselor", "GET", f"/api/v1/counselor/sessions/{cast.shared_id}")
    assert [n["body"] for n in still.json["notes"]] == ["Typo in this nnote"]
    assert audit_count(app, "note_changed") == audit_count(app, "note_deleted") == 0


def test_the_transcript_page_edits_and_deletes_the_counselors_own_notes(app: Flask, cast: Cast):
    mine = add(cast, "My own nnote")
    make_user(app, "second@example.org", "counselor")
    theirs = cast.api.client.post(
        notes_path(cast),
        headers=cast.api.headers(login(cast.api, "second@example.org")),
        json={"body": "A colleague's note"},
    ).json
    client = app.test_client()
    assert browser_login(client, "counselor@example.org").status_code == 303
    page = client.get(f"/counselor/sessions/{cast.shared_id}").get_data(as_text=True)
    assert f'id="edit-note-{mine["id"]}-save"' in page
    assert f'id="edit-note-{theirs["id"]}-save"' not in page  # a colleague's: no form
    action = f"/counselor/sessions/{cast.shared_id}/notes/{mine['id']}"
    # Without the form's token, nothing changes.
    forged = client.post(action, data={"body": "Forged", "action": "save"})
    assert forged.status_code == 403
    saved = client.post(
        action,
        data={
            "body": "My own note",
            "visible_to_seeker": "yes",
            "action": "save",
            "csrf_token": csrf_token(client),
        },
    )
    assert saved.status_code == 303 and saved.headers["Location"].endswith(
        f"#saved-note-{mine['id']}"
    )
    assert seeker_sees(cast) == ["My own note"]
    emptied = client.post(
        action, data={"body": " ", "action": "save", "csrf_token": csrf_token(client)}
    )
    assert emptied.status_code == 400 and b"needs some text" in emptied.data
    assert seeker_sees(cast) == ["My own note"]
    other = client.post(
        f"/counselor/sessions/{cast.shared_id}/notes/{theirs['id']}",
        data={"action": "delete", "confirm": "yes", "csrf_token": csrf_token(client)},
    )
    assert other.status_code == 403
    unconfirmed = client.post(action, data={"action": "delete", "csrf_token": csrf_token(client)})
    assert unconfirmed.status_code == 400 and b"confirm" in unconfirmed.data
    assert seeker_sees(cast) == ["My own note"]
    deleted = client.post(
        action, data={"action": "delete", "confirm": "yes", "csrf_token": csrf_token(client)}
    )
    assert deleted.status_code == 303 and deleted.headers["Location"].endswith("#session-notes")
    left = cast.call("counselor", "GET", f"/api/v1/counselor/sessions/{cast.shared_id}")
    assert [n["body"] for n in left.json["notes"]] == ["A colleague's note"]


def test_the_audit_page_lists_the_changes_by_their_counselor(app: Flask, cast: Cast):
    note = add(cast)
    path = f"{notes_path(cast)}/{note['id']}"
    cast.call("counselor", "PATCH", path, {"body": "Put right"})
    cast.call("counselor", "DELETE", path)
    lines = cast.call("admin", "GET", "/api/v1/admin/audit").json["items"]
    changes = [(line["action"], line["actor_email"]) for line in lines[:2]]
    assert changes == [
        ("note_deleted", "counselor@example.org"),
        ("note_changed", "counselor@example.org"),
    ]
    assert all("Put right" not in line["detail"] for line in lines)


def test_a_change_says_what_changed_and_one_that_changes_nothing_leaves_no_trace(cast: Cast):
    note = add(cast, "Same words", visible_to_seeker=True)
    path = f"{notes_path(cast)}/{note['id']}"
    same = cast.call("counselor", "PATCH", path, {"body": "Same words", "visible_to_seeker": True})
    assert same.status_code == 200 and same.json["edited_at"] is None
    assert audit_count(cast.app, "note_changed") == 0
    cast.call("counselor", "PATCH", path, {"body": "New words", "visible_to_seeker": False})
    cast.call("counselor", "PATCH", path, {"visible_to_seeker": True})
    lines = cast.call("admin", "GET", "/api/v1/admin/audit").json["items"]
    details = [line["detail"] for line in lines if line["action"] == "note_changed"]
    assert details == [
        f"note {note['id']}: shown to the seeker",
        f"note {note['id']}: text changed, hidden from the seeker",
    ]
    cast.call("counselor", "DELETE", path)
    latest = cast.call("admin", "GET", "/api/v1/admin/audit").json["items"][0]
    assert latest["action"] == "note_deleted"
    assert latest["detail"] == f"note {note['id']}, it was visible to the seeker"


def test_the_seeker_sees_that_a_note_was_edited(app: Flask, cast: Cast):
    note = add(cast, "Good work on the plan", visible_to_seeker=True)
    cast.call("counselor", "PATCH", f"{notes_path(cast)}/{note['id']}", {"body": "Great work"})
    [shown] = cast.call("seeker_a", "GET", f"/api/v1/sessions/{cast.shared_id}/notes").json["items"]
    assert shown["body"] == "Great work" and shown["edited_at"] is not None
    markdown = cast.call(
        "counselor", "GET", f"/api/v1/counselor/sessions/{cast.shared_id}/transcript.md"
    )
    assert ", edited " in markdown.get_data(as_text=True)


def test_after_the_seeker_stops_sharing_the_author_can_still_take_a_note_back(
    app: Flask, api: ApiActions, cast: Cast
):
    note = add(cast, "Meant for another seeker", visible_to_seeker=True)
    make_user(app, "second@example.org", "counselor")
    second = login(api, "second@example.org")
    share(api, cast.seeker_a, cast.shared_id, shared=False)
    path = f"{notes_path(cast)}/{note['id']}"
    # Another counselor cannot tell the note or the session apart from nothing.
    other = api.client.patch(path, headers=api.headers(second), json={"visible_to_seeker": False})
    assert other.status_code == 404
    assert (
        cast.call("counselor", "GET", f"/api/v1/counselor/sessions/{cast.shared_id}").status_code
        == 404
    )
    # New words, or a note shown again, would reach a seeker who stopped sharing: no.
    for change in ({"body": "Brand new words"}, {"visible_to_seeker": True, "body": "x"}):
        assert cast.call("counselor", "PATCH", path, change).status_code == 404
    assert seeker_sees(cast) == ["Meant for another seeker"]
    hidden = cast.call("counselor", "PATCH", path, {"visible_to_seeker": False})
    assert hidden.status_code == 200 and hidden.json["visible_to_seeker"] is False
    assert seeker_sees(cast) == []
    shown_again = cast.call("counselor", "PATCH", path, {"visible_to_seeker": True})
    assert shown_again.status_code == 404 and seeker_sees(cast) == []
    assert cast.call("counselor", "DELETE", path).status_code == 204


def test_the_page_form_refuses_what_the_api_refuses_and_counts_line_breaks_as_the_field_does(
    app: Flask, cast: Cast
):
    note = add(cast)
    client = app.test_client()
    assert browser_login(client, "counselor@example.org").status_code == 303
    action = f"/counselor/sessions/{cast.shared_id}/notes/{note['id']}"

    def save(body: str, what: str = "save") -> Any:
        return client.post(
            action, data={"body": body, "action": what, "csrf_token": csrf_token(client)}
        )

    assert save("a\x00b").status_code == 400
    assert save("Fine", what="bogus").status_code == 400
    # 2,000 lines of one letter: 3,999 characters in the field, 5,998 as the browser sends them.
    lines = "\r\n".join(["a"] * 2000)
    assert save(lines).status_code == 303
    stored = cast.call("counselor", "GET", f"/api/v1/counselor/sessions/{cast.shared_id}")
    assert stored.json["notes"][0]["body"] == "\n".join(["a"] * 2000)
    added = client.post(
        f"/counselor/sessions/{cast.shared_id}/notes",
        data={"body": "x\x00y", "csrf_token": csrf_token(client)},
    )
    assert added.status_code == 400
