"""The counselors' dashboard on SQLite and on PostgreSQL: shared sessions only,
latest activity first, the flagged, stage and date filters, search over the
transcripts, and keyset pages that stay correct while new activity arrives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from coach.storage.database import database
from coach.storage.models import CoachingSession
from tests.counsel_actions import CRISIS, login, make_user, share

DAY = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def dashboard(storage_app, storage_api):
    """Six sessions of two seekers: five shared, one not; one flagged; set moments."""
    make_user(storage_app, "counselor@example.org", "counselor")
    counselor = login(storage_api, "counselor@example.org")
    seekers = [storage_api.guest(), storage_api.guest()]
    words = [
        "The recruiter mentioned my Kubernetes experience was thin",
        "I felt the culture there was not for me",
        CRISIS,
        "They picked someone with more leadership practice",
        "My portfolio needs work",
        "A private conversation about Kubernetes too",
    ]
    ids = []
    for position, text in enumerate(words):
        seeker = seekers[position % 2]
        session_id = storage_api.new_session(seeker)
        storage_api.send(seeker, session_id, text)
        if position != 5:
            share(storage_api, seeker, session_id)
        ids.append(session_id)
    # Moments by hand, two of them equal, so that ties are ordered by id.
    moments = [DAY, DAY + timedelta(days=1), DAY + timedelta(days=2), DAY + timedelta(days=2)]
    moments += [DAY + timedelta(days=5), DAY + timedelta(days=6)]
    stages = ["emotions", "causes", "emotions", "improvement", "causes", "emotions"]
    with database(storage_app).make_session() as db:
        for session_id, moment, stage in zip(ids, moments, stages, strict=True):
            db.execute(
                update(CoachingSession)
                .where(CoachingSession.id == session_id)
                .values(last_activity_at=moment, stage=stage)
            )
        db.commit()
    return storage_api, counselor, ids


def listed(api, token, **params):
    response = api.client.get(
        "/api/v1/counselor/sessions", headers=api.headers(token), query_string=params
    )
    assert response.status_code == 200, response.json
    return response.json


def ids_of(page):
    return [s["id"] for s in page["items"]]


def test_shared_sessions_only_latest_activity_first_ties_by_id(dashboard):
    api, counselor, ids = dashboard
    assert ids_of(listed(api, counselor)) == [ids[4], ids[3], ids[2], ids[1], ids[0]]


def test_the_flagged_filter(dashboard):
    api, counselor, ids = dashboard
    assert ids_of(listed(api, counselor, flagged="true")) == [ids[2]]
    assert ids[2] not in ids_of(listed(api, counselor, flagged="false"))
    assert listed(api, counselor, flagged="true")["items"][0]["flags"] == ["crisis"]


def test_the_stage_filter(dashboard):
    api, counselor, ids = dashboard
    assert ids_of(listed(api, counselor, stage="causes")) == [ids[4], ids[1]]


def test_the_date_filters_include_both_days(dashboard):
    api, counselor, ids = dashboard
    found = listed(api, counselor, since="2026-03-11", until="2026-03-12")
    assert ids_of(found) == [ids[3], ids[2], ids[1]]


@pytest.mark.parametrize(
    ("q", "positions"),
    [
        ("kubernetes", [0]),
        ("culture", [1]),
        ("leadership practice", [3]),
        ("nowhere", []),
        # The same on both databases: every word, whole, in any order, in one message;
        # case and punctuation do not matter.
        ("practice leadership", [3]),
        ("KUBERNETES, thin!", [0]),
        ("kube", []),
        ("portfolio work", [4]),
        ("portfolio culture", []),
        ("%", []),
        ("_", []),
    ],
)
def test_search_finds_words_in_shared_transcripts_only(dashboard, q, positions):
    api, counselor, ids = dashboard
    assert ids_of(listed(api, counselor, q=q)) == [ids[p] for p in positions]


def test_filters_combine(dashboard):
    api, counselor, ids = dashboard
    assert ids_of(listed(api, counselor, stage="emotions", flagged="false")) == [ids[0]]


def test_keyset_pages_cover_everything_once_even_as_activity_arrives(dashboard):
    api, counselor, ids = dashboard
    first = listed(api, counselor, per_page=2)
    assert ids_of(first) == [ids[4], ids[3]]
    # New activity on a later session moves it to the top; pages already begun go on
    # from where they were, with no repeats.
    seeker_session = ids[0]
    with database(api.client.application).make_session() as db:
        db.execute(
            update(CoachingSession)
            .where(CoachingSession.id == seeker_session)
            .values(last_activity_at=DAY + timedelta(days=30))
        )
        db.commit()
    second = listed(api, counselor, per_page=2, cursor=first["next_cursor"])
    assert ids_of(second) == [ids[2], ids[1]]
    # The session that moved was the only one left: this is the last page.
    assert second["next_cursor"] is None
    assert ids_of(listed(api, counselor))[0] == seeker_session


def test_pages_of_one_walk_the_whole_list(dashboard):
    api, counselor, ids = dashboard
    seen, cursor = [], None
    for _ in range(10):
        page = listed(api, counselor, per_page=1, **({"cursor": cursor} if cursor else {}))
        seen += ids_of(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [ids[4], ids[3], ids[2], ids[1], ids[0]]


def test_a_cursor_that_was_not_given_out_is_a_400(dashboard):
    api, counselor, _ids = dashboard
    response = api.client.get(
        "/api/v1/counselor/sessions",
        headers=api.headers(counselor),
        query_string={"cursor": "not-a-cursor"},
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_cursor"


def test_a_stored_message_is_activity(storage_app, storage_api):
    make_user(storage_app, "counselor@example.org", "counselor")
    counselor = login(storage_api, "counselor@example.org")
    seeker = storage_api.guest()
    older, newer = storage_api.new_session(seeker), storage_api.new_session(seeker)
    for session_id in (older, newer):
        share(storage_api, seeker, session_id)
    assert ids_of(listed(storage_api, counselor)) == [newer, older]
    storage_api.send(seeker, older, "Something new happened today")
    assert ids_of(listed(storage_api, counselor)) == [older, newer]


def test_search_finds_a_word_in_any_case_beyond_ascii_on_every_database(storage_app, storage_api):
    make_user(storage_app, "counselor@example.org", "counselor")
    counselor = login(storage_api, "counselor@example.org")
    seeker = storage_api.guest()
    session_id = storage_api.new_session(seeker)
    storage_api.send(seeker, session_id, "L'ÉQUIPE était soudée, mais ils ont dit non.")
    share(storage_api, seeker, session_id)
    assert ids_of(listed(storage_api, counselor, q="équipe")) == [session_id]
    assert ids_of(listed(storage_api, counselor, q="soudée")) == [session_id]
