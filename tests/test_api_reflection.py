"""The reflection record through the API: shown with its session, corrected one entry
at a time by its owner, and nobody else's ever touched."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask

from coach.guide.frameworks import frameworks
from coach.guide.record import MAX_ITEM_CHARS, LikelyCause, ReflectionRecord
from coach.storage.database import database
from coach.storage.models import CoachingSession
from tests.conftest import ApiActions
from tests.test_chat_view import mark_replying

RECORD = ReflectionRecord(
    emotions=["disappointment", "self-doubt"],
    likely_causes=[
        LikelyCause(cause="skills_gap", evidence="They said my SQL was not strong enough."),
        LikelyCause(cause="competition", evidence="Another candidate had more years."),
    ],
    feedback=["They said my SQL was not strong enough."],
    strengths=["I reached the final round"],
    goals=["Practise window functions"],
    routine=["A walk every morning"],
    support=["My sister"],
)


def set_record(app: Flask, session_id: int, record: ReflectionRecord) -> None:
    with database(app).make_session() as db, db.begin():
        db.get_one(CoachingSession, session_id).reflection = record.model_dump(mode="json")


def stored_record(app: Flask, session_id: int) -> ReflectionRecord:
    with database(app).make_session() as db:
        return ReflectionRecord.model_validate(db.get_one(CoachingSession, session_id).reflection)


def seeker_with_record(app: Flask, api: ApiActions) -> tuple[str, int]:
    token = api.guest()
    session_id = api.new_session(token)
    set_record(app, session_id, RECORD)
    return token, session_id


def correct(api: ApiActions, token: str, session_id: int, **body: Any) -> Any:
    return api.client.patch(
        f"/api/v1/sessions/{session_id}/reflection", headers=api.headers(token), json=body
    )


def test_a_new_session_shows_an_empty_record(api):
    token = api.guest()
    shown = api.session(token, api.new_session(token))
    assert shown["reflection"] == ReflectionRecord().model_dump(mode="json")


def test_the_session_shows_its_record_with_the_causes_named(app, api):
    token, session_id = seeker_with_record(app, api)
    reflection = api.session(token, session_id)["reflection"]
    assert reflection["emotions"] == ["disappointment", "self-doubt"]
    assert reflection["support"] == ["My sister"]
    assert reflection["cause_unknown"] is False
    with app.app_context():
        named = frameworks().stage("causes").section("causes")
        assert [c["label"] for c in reflection["likely_causes"]] == [
            named.item("skills_gap").name,
            named.item("competition").name,
        ]
    assert reflection["likely_causes"][1] == {
        "cause": "competition",
        "label": reflection["likely_causes"][1]["label"],
        "evidence": "Another candidate had more years.",
    }


def test_what_the_keyword_rules_record_is_shown(api):
    token = api.guest()
    session_id = api.new_session(token)
    before = api.session(token, session_id)["reflection"]
    assert api.send(token, session_id, "I feel disappointed.").status_code == 201
    after = api.session(token, session_id)["reflection"]
    assert after != before
    assert after["emotions"], after


def test_the_session_list_leaves_the_record_out(app, api):
    token, _session_id = seeker_with_record(app, api)
    listed = api.client.get("/api/v1/sessions", headers=api.headers(token)).json
    assert "reflection" not in listed["items"][0]


@pytest.mark.parametrize(
    ("field", "index", "value", "expected"),
    [
        ("emotions", 1, "some self-doubt", ["disappointment", "some self-doubt"]),
        ("emotions", 0, None, ["self-doubt"]),
        ("goals", 0, "  Practise\n window functions daily ", ["Practise window functions daily"]),
        ("support", 0, None, []),
        ("strengths", 0, "Reaching the final round of two", ["Reaching the final round of two"]),
    ],
)
def test_an_entry_is_edited_or_removed(app, api, field, index, value, expected):
    token, session_id = seeker_with_record(app, api)
    response = correct(api, token, session_id, field=field, index=index, value=value)
    assert response.status_code == 200, response.json
    assert response.json[field] == expected
    # The rest of the record is as it was, and the change is stored.
    untouched = RECORD.model_dump(mode="json")
    assert {k: v for k, v in response.json.items() if k not in (field, "likely_causes")} == {
        k: v for k, v in untouched.items() if k not in (field, "likely_causes")
    }
    assert getattr(stored_record(app, session_id), field) == expected
    assert api.session(token, session_id)["reflection"] == response.json


def test_editing_a_likely_cause_edits_its_evidence(app, api):
    token, session_id = seeker_with_record(app, api)
    response = correct(
        api, token, session_id, field="likely_causes", index=0, value="I froze on the SQL test."
    )
    assert response.status_code == 200, response.json
    edited = response.json["likely_causes"][0]
    assert edited["cause"] == "skills_gap"
    assert edited["evidence"] == "I froze on the SQL test."
    assert stored_record(app, session_id).likely_causes[0].evidence == "I froze on the SQL test."


def test_removing_a_likely_cause_keeps_the_others(app, api):
    token, session_id = seeker_with_record(app, api)
    response = correct(api, token, session_id, field="likely_causes", index=0, value=None)
    assert response.status_code == 200
    assert [c["cause"] for c in response.json["likely_causes"]] == ["competition"]
    assert [c.cause for c in stored_record(app, session_id).likely_causes] == ["competition"]


def test_an_edit_that_repeats_another_entry_merges_with_it(app, api):
    token, session_id = seeker_with_record(app, api)
    response = correct(api, token, session_id, field="emotions", index=1, value="Disappointment")
    assert response.status_code == 200
    assert response.json["emotions"] == ["disappointment"]


def test_the_shown_text_guards_against_a_record_changed_meanwhile(app, api):
    token, session_id = seeker_with_record(app, api)
    ok = correct(
        api, token, session_id, field="emotions", index=0, value=None, was="disappointment"
    )
    assert ok.status_code == 200
    # The seeker's page still shows the old list: index 0 is no longer "disappointment".
    stale = correct(
        api, token, session_id, field="emotions", index=0, value=None, was="disappointment"
    )
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "record_changed"
    assert stored_record(app, session_id).emotions == ["self-doubt"]
    cause = correct(
        api,
        token,
        session_id,
        field="likely_causes",
        index=1,
        value=None,
        was="Another candidate had more years.",
    )
    assert cause.status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"field": "cause_unknown", "index": 0, "value": "yes"}, "invalid_input"),
        ({"field": "hobbies", "index": 0, "value": "chess"}, "invalid_input"),
        ({"field": "emotions", "index": 2, "value": "sad"}, "no_such_entry"),
        ({"field": "support", "index": 1, "value": None}, "no_such_entry"),
        ({"field": "emotions", "index": -1, "value": "sad"}, "invalid_input"),
        ({"field": "emotions", "index": "0", "value": "sad"}, "invalid_input"),
        ({"field": "emotions", "index": True, "value": "sad"}, "invalid_input"),
        ({"field": "emotions", "index": 0, "value": ""}, "invalid_input"),
        ({"field": "emotions", "index": 0, "value": "   \n "}, "invalid_input"),
        ({"field": "emotions", "index": 0, "value": 7}, "invalid_input"),
        ({"field": "emotions", "index": 0, "value": ["sad"]}, "invalid_input"),
        ({"field": "emotions", "index": 0, "value": "x" * (MAX_ITEM_CHARS + 1)}, "invalid_input"),
        ({"field": "emotions", "index": 0, "value": "sad\x00"}, "invalid_characters"),
        ({"field": "emotions", "index": 0, "value": "sad\x1b[31m"}, "invalid_characters"),
        ({"field": "emotions", "index": 0}, "invalid_input"),
        ({"field": "emotions", "value": "sad"}, "invalid_input"),
        ({"field": "emotions", "index": 0, "value": "sad", "cause": "x"}, "invalid_input"),
    ],
)
def test_bad_corrections_are_refused(app, api, body, code):
    token, session_id = seeker_with_record(app, api)
    response = correct(api, token, session_id, **body)
    assert response.status_code == 400, response.json
    assert response.json["error"]["code"] == code
    assert stored_record(app, session_id) == RECORD


def test_a_lone_surrogate_is_refused(app, api):
    token, session_id = seeker_with_record(app, api)
    response = api.client.patch(
        f"/api/v1/sessions/{session_id}/reflection",
        headers=api.headers(token),
        data='{"field": "emotions", "index": 0, "value": "sad \\ud800"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert stored_record(app, session_id) == RECORD


def test_a_body_that_is_not_an_object_is_refused(app, api):
    token, session_id = seeker_with_record(app, api)
    response = api.client.patch(
        f"/api/v1/sessions/{session_id}/reflection",
        headers=api.headers(token),
        data="[1]",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_json"


def test_the_longest_entry_is_accepted(app, api):
    token, session_id = seeker_with_record(app, api)
    value = "y" * MAX_ITEM_CHARS
    response = correct(api, token, session_id, field="goals", index=0, value=value)
    assert response.status_code == 200
    assert response.json["goals"] == [value]


def test_another_users_record_is_a_404_and_untouched(app, api):
    _owner, session_id = seeker_with_record(app, api)
    intruder = api.guest()
    response = correct(api, intruder, session_id, field="emotions", index=0, value=None)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert stored_record(app, session_id) == RECORD


def test_a_missing_session_is_a_404(api):
    token = api.guest()
    response = correct(api, token, 99999, field="emotions", index=0, value=None)
    assert response.status_code == 404


def test_no_caller_is_a_401(app, api):
    _owner, session_id = seeker_with_record(app, api)
    response = api.client.patch(
        f"/api/v1/sessions/{session_id}/reflection",
        json={"field": "emotions", "index": 0, "value": None},
    )
    assert response.status_code == 401
    assert stored_record(app, session_id) == RECORD


def test_a_correction_waits_for_the_reply_being_written(app, api):
    token, session_id = seeker_with_record(app, api)
    mark_replying(app, session_id)
    response = correct(api, token, session_id, field="emotions", index=0, value=None)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "reply_in_progress"
    assert stored_record(app, session_id) == RECORD


CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def test_a_cookie_correction_needs_the_csrf_token(app, client):
    token = CSRF.search(client.get("/").get_data(as_text=True))
    assert token
    started = client.post("/start", data={"csrf_token": token.group(1)})
    session_id = int(started.headers["Location"].rsplit("/", 1)[1])
    # Signing in gives the browser a fresh token: the one its chat page carries.
    token = CSRF.search(client.get(started.headers["Location"]).get_data(as_text=True))
    assert token
    set_record(app, session_id, RECORD)
    url = f"/api/v1/sessions/{session_id}/reflection"
    body = {"field": "emotions", "index": 0, "value": None}

    refused = client.patch(url, json=body)
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "csrf_failed"
    wrong = client.patch(url, json=body, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    assert stored_record(app, session_id) == RECORD

    accepted = client.patch(url, json=body, headers={"X-CSRF-Token": token.group(1)})
    assert accepted.status_code == 200
    assert accepted.json["emotions"] == ["self-doubt"]


def test_corrections_are_stored_on_each_database(storage_app, storage_api):
    token, session_id = seeker_with_record(storage_app, storage_api)
    edited = correct(storage_api, token, session_id, field="goals", index=0, value="Learn SQL")
    assert edited.status_code == 200
    removed = correct(storage_api, token, session_id, field="emotions", index=0, value=None)
    assert removed.status_code == 200
    stored = stored_record(storage_app, session_id)
    assert stored.goals == ["Learn SQL"]
    assert stored.emotions == ["self-doubt"]
