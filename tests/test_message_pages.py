"""A session is shown with a page of its messages: the newest `limit` (50 unless
asked), or the newest before a message id (`before`), oldest first, with
`has_earlier` saying whether to ask further back. Pages are bounded by ids, so they
stay the same while the conversation goes on; bad parameters are a clear 400; and
what reads the whole conversation (the counselor's transcript, the export) still
sees all of it."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from coach.coaching.sessions import MAX_MESSAGES_SHOWN, MESSAGES_SHOWN
from coach.storage.database import database
from coach.storage.models import Message
from tests.conftest import ApiActions
from tests.counsel_actions import login, make_user, share


def add_messages(app: Flask, session_id: int, count: int, *, last_role: str = "assistant") -> None:
    """`count` messages, the seeker and the coach in turn, ending with `last_role`."""
    other = "user" if last_role == "assistant" else "assistant"
    with database(app).make_session() as db:
        for n in range(count):
            db.add(
                Message(
                    coaching_session_id=session_id,
                    role=last_role if (count - 1 - n) % 2 == 0 else other,
                    content=f"message {n} *said*",
                    stage="emotions",
                )
            )
        db.commit()


def all_ids(app: Flask, session_id: int) -> list[int]:
    with database(app).make_session() as db:
        return [m.id for m in db.scalars(Message.in_session(session_id))]


def show(api: ApiActions, token: str, session_id: int, query: str = "") -> dict:
    response = api.client.get(f"/api/v1/sessions/{session_id}{query}", headers=api.headers(token))
    assert response.status_code == 200, response.json
    shown: dict = response.json
    return shown


def ids(shown: dict) -> list[int]:
    return [m["id"] for m in shown["messages"]]


@pytest.fixture
def seeker(api: ApiActions) -> tuple[str, int]:
    token = api.guest()
    return token, api.new_session(token)


@pytest.mark.parametrize(
    ("count", "has_earlier"),
    [(0, False), (10, False), (MESSAGES_SHOWN, False), (MESSAGES_SHOWN + 1, True), (120, True)],
)
def test_a_session_shows_its_newest_messages_oldest_first(app, api, seeker, count, has_earlier):
    token, session_id = seeker
    add_messages(app, session_id, count)
    shown = show(api, token, session_id)
    assert ids(shown) == all_ids(app, session_id)[-MESSAGES_SHOWN:]
    assert len(shown["messages"]) == min(count, MESSAGES_SHOWN)
    assert shown["has_earlier"] is has_earlier


@pytest.mark.parametrize("limit", [1, 7, 50, MAX_MESSAGES_SHOWN])
def test_walking_back_with_before_shows_every_message_once(app, api, seeker, limit):
    token, session_id = seeker
    add_messages(app, session_id, 130)
    pages = [show(api, token, session_id, f"?limit={limit}")]
    while pages[-1]["has_earlier"]:
        first = pages[-1]["messages"][0]["id"]
        pages.append(show(api, token, session_id, f"?limit={limit}&before={first}"))
    assert all(len(page["messages"]) <= limit for page in pages)
    walked = [i for page in reversed(pages) for i in ids(page)]
    assert walked == all_ids(app, session_id)
    assert len(pages) == -(-130 // limit)


def test_a_page_stays_the_same_while_the_conversation_goes_on(app, api, seeker):
    token, session_id = seeker
    add_messages(app, session_id, 80)
    newest = show(api, token, session_id, "?limit=20")
    earlier = f"?limit=20&before={newest['messages'][0]['id']}"
    before = show(api, token, session_id, earlier)
    assert api.send(token, session_id, "And one more thing").status_code == 201
    after = show(api, token, session_id, earlier)
    assert after["messages"] == before["messages"]
    assert after["has_earlier"] is True
    # The newest page moved on by the new turn (the message and its reply).
    assert ids(show(api, token, session_id, "?limit=20"))[:-2] == ids(newest)[2:]


@pytest.mark.parametrize(("last_role", "offered"), [("user", True), ("assistant", False)])
def test_retry_is_offered_from_the_conversations_last_message_on_any_page(
    app, api, seeker, last_role, offered
):
    token, session_id = seeker
    add_messages(app, session_id, 21, last_role=last_role)
    newest = show(api, token, session_id, "?limit=9")
    assert newest["messages"][-1]["role"] == last_role
    earlier = show(api, token, session_id, f"?limit=9&before={newest['messages'][0]['id']}")
    assert earlier["messages"][-1]["role"] != last_role  # the page ends elsewhere
    assert newest["retry_offered"] is offered
    assert earlier["retry_offered"] is offered


def test_before_an_id_past_the_newest_is_the_newest_page(app, api, seeker):
    token, session_id = seeker
    add_messages(app, session_id, 60)
    newest = show(api, token, session_id)
    assert show(api, token, session_id, "?before=2147483647") == newest


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?limit=-3", "limit"),
        ("?limit=ten", "limit"),
        ("?limit=", "limit"),
        ("?limit=2.5", "limit"),
        ("?before=0", "before"),
        ("?before=abc", "before"),
        ("?before=99999999999999999999999", "before"),
        ("?before=1&limit=999", "limit"),
    ],
)
def test_bad_paging_parameters_are_a_clear_400(api, seeker, query, named):
    token, session_id = seeker
    response = api.client.get(f"/api/v1/sessions/{session_id}{query}", headers=api.headers(token))
    assert response.status_code == 400
    error = response.json["error"]
    assert error["code"] == "invalid_input"
    assert re.match(rf"{named}: ", error["message"]), error["message"]


@pytest.mark.parametrize("query", ["", "?limit=5", "?before=2147483647", "?limit=0"])
def test_another_users_session_is_still_a_404(app, api, seeker, query):
    _token, session_id = seeker
    add_messages(app, session_id, 12)
    stranger = api.guest()
    response = api.client.get(
        f"/api/v1/sessions/{session_id}{query}", headers=api.headers(stranger)
    )
    # A bad parameter may be refused first; never an answer with the messages.
    assert response.status_code == (400 if "limit=0" in query else 404)
    assert "messages" not in (response.json or {})


def test_the_chat_page_shows_the_newest_page_and_offers_earlier_ones(app, client):
    page = client.get("/").get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert csrf and client.post("/start", data={"csrf_token": csrf[1]}).status_code == 303
    session_id = client.get("/api/v1/sessions").json["items"][0]["id"]
    page = client.get(f"/chat/{session_id}").get_data(as_text=True)
    assert re.search(r'<button[^>]*id="earlier-button"[^>]* hidden', page)
    add_messages(app, session_id, 70)
    page = client.get(f"/chat/{session_id}").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'data-message-id="(\d+)"', page)]
    assert shown == all_ids(app, session_id)[-MESSAGES_SHOWN:]
    button = re.search(r'<button[^>]*id="earlier-button"[^>]*>', page)
    assert button and "hidden" not in button[0]


def test_the_transcript_and_the_export_still_read_the_whole_conversation(app, api, seeker):
    token, session_id = seeker
    add_messages(app, session_id, 130)
    share(api, token, session_id)
    make_user(app, "counselor@example.org", "counselor")
    counselor = login(api, "counselor@example.org")
    response = api.client.get(
        f"/api/v1/counselor/sessions/{session_id}", headers=api.headers(counselor)
    )
    assert response.status_code == 200, response.json
    read = [m["id"] for s in response.json["segments"] for m in s["messages"]]
    assert read == all_ids(app, session_id)
    export = api.client.get("/api/v1/me/export", headers=api.headers(token)).json
    [exported] = [s for s in export["sessions"] if s["id"] == session_id]
    assert len(exported["messages"]) == 130
