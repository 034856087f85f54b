"""The rules of the chat UI, each decided once on the server: a message's markup,
whether a retry is offered, whether a refused message was stored, and the steps the
pages name. The page and chat.js only show what these say."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from coach.guide.frameworks import frameworks
from coach.storage.database import database
from coach.storage.models import CoachingSession, Message
from tests.conftest import AppFactory, make_openai_app, parse_events
from tests.fake_model import FakeModel

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


class Browser:
    """A guest who came in through the landing page, as the browser does: the page
    and the API, with the cookie and the CSRF token."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        token = CSRF.search(client.get("/").get_data(as_text=True))
        assert token
        started = client.post("/start", data={"csrf_token": token.group(1)})
        assert started.status_code == 303
        self.chat_url = started.headers["Location"]
        self.session_id = int(self.chat_url.rsplit("/", 1)[1])
        token = CSRF.search(self.page())
        assert token
        self.headers = {"X-CSRF-Token": token.group(1)}
        self.api_url = f"/api/v1/sessions/{self.session_id}"

    def page(self) -> str:
        return self.client.get(self.chat_url).get_data(as_text=True)

    def session(self) -> Any:
        response = self.client.get(self.api_url)
        assert response.status_code == 200
        return response.json

    def post(self, path: str, *, stream: bool = False, **json: Any) -> Any:
        headers = self.headers | ({"Accept": "text/event-stream"} if stream else {})
        return self.client.post(self.api_url + path, json=json, headers=headers)


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


def store(app: Flask, session_id: int, messages: list[tuple[str, str]]) -> None:
    """Store (role, status) messages as turns would have, each reply answering the
    seeker message before it."""
    with database(app).make_session() as db, db.begin():
        last_user: int | None = None
        for role, status in messages:
            message = Message(
                coaching_session_id=session_id,
                role=role,
                content=f"a {status} {role} message",
                stage="emotions",
                status=status,
                reply_to_id=None if role == "user" else last_user,
            )
            db.add(message)
            db.flush()
            if role == "user":
                last_user = message.id


def mark_replying(app: Flask, session_id: int) -> None:
    """Mark the session as a turn does while its reply is being written."""
    with database(app).make_session() as db, db.begin():
        coaching_session = db.get_one(CoachingSession, session_id)
        coaching_session.replying_since = datetime.now(UTC) - timedelta(seconds=1)
        coaching_session.replying_token = "another-turn"


def retry_button_shown(page: str) -> bool:
    button = re.search(r'<button type="button" id="retry-button"[^>]*>', page)
    assert button, "the chat page has no retry button"
    return " hidden" not in button.group(0)


# Whether a retry is offered -----------------------------------------------------------

USER = ("user", "complete")
COMPLETE, PARTIAL, FAILED = (("assistant", s) for s in ("complete", "partial", "failed"))


@pytest.mark.parametrize(
    ("messages", "replying", "offered"),
    [
        pytest.param([], False, False, id="empty"),
        pytest.param([USER], False, True, id="no-reply-yet"),
        pytest.param([USER, COMPLETE], False, False, id="answered"),
        pytest.param([USER, PARTIAL], False, True, id="partial"),
        pytest.param([USER, FAILED], False, True, id="failed"),
        pytest.param([USER, FAILED, PARTIAL], False, True, id="failed-then-partial"),
        pytest.param([USER, PARTIAL, COMPLETE], False, False, id="retried"),
        pytest.param([USER, COMPLETE, USER], False, True, id="second-unanswered"),
        pytest.param([USER, COMPLETE, USER, FAILED], False, True, id="second-failed"),
        pytest.param([USER], True, False, id="replying"),
        pytest.param([USER, FAILED], True, False, id="failed-while-replying"),
    ],
)
def test_retry_is_offered_exactly_when_the_server_would_retry(
    app: Flask,
    browser: Browser,
    messages: list[tuple[str, str]],
    replying: bool,
    offered: bool,
) -> None:
    store(app, browser.session_id, messages)
    if replying:
        mark_replying(app, browser.session_id)

    assert browser.session()["retry_offered"] is offered
    assert retry_button_shown(browser.page()) is offered
    # The flag agrees with what the retry endpoint does.
    retried = browser.post("/retry")
    assert retried.status_code == (201 if offered else 409), retried.json


def test_the_retry_flag_comes_with_the_messages(client: FlaskClient, browser: Browser) -> None:
    listed = client.get("/api/v1/sessions").json["items"][0]
    assert "messages" not in listed and "retry_offered" not in listed
    assert browser.session()["retry_offered"] is False


# One markup for a message -------------------------------------------------------------

HOSTILE = "<img src=x onerror=alert(1)> and <b>bold</b>\nsecond line"


def test_the_page_and_the_json_carry_the_same_message_markup(browser: Browser) -> None:
    events = parse_events(browser.post("/messages", stream=True, content=HOSTILE).get_data(True))
    stored = browser.session()["messages"]
    page = browser.page()

    assert [m["role"] for m in stored] == ["user", "assistant"]
    for message in stored:
        assert message["html"] in page  # the page's transcript is the JSON's markup
        assert f'data-message-id="{message["id"]}"' in message["html"]
    # What the stream sends is what a reload shows.
    assert events[0][1]["message"]["html"] == stored[0]["html"]
    assert events[-1][1]["reply"]["html"] == stored[1]["html"]
    user = stored[0]["html"]
    assert f">{escape(HOSTILE)}</div>" in user  # the seeker's text, escaped, on one line
    assert "<img" not in user and "<b>" not in user
    assert "<img" not in stored[1]["html"]


@pytest.mark.parametrize(
    ("role", "status", "content", "note"),
    [
        ("user", "complete", "hello", None),
        ("assistant", "complete", "**hello**", None),
        ("assistant", "partial", "hel", "This reply was interrupted."),
        ("assistant", "failed", "", "This reply failed."),
    ],
)
def test_a_message_note_says_how_the_reply_ended(
    app: Flask, browser: Browser, role: str, status: str, content: str, note: str | None
) -> None:
    with database(app).make_session() as db, db.begin():
        db.add(
            Message(
                coaching_session_id=browser.session_id,
                role=role,
                content=content,
                stage="emotions",
                status=status,
            )
        )
    html = browser.session()["messages"][0]["html"]
    assert f'data-status="{status}"' in html
    assert html.count('class="message-note"') == (0 if note is None else 1)
    if note:
        assert note in html
    # A reply that failed before any text has no body.
    assert ('class="message-body' in html) is bool(content)
    if role == "assistant" and content:
        assert "<strong>hello</strong>" in html or "<p>hel</p>" in html


def test_the_page_templates_for_unsaved_bubbles_come_from_the_same_macro(
    browser: Browser,
) -> None:
    page = browser.page()
    for role, status in [("user", "sending"), ("assistant", "streaming")]:
        template = re.search(rf'<template id="template-{role}">(.*?)</template>', page, re.S)
        assert template, role
        article = template.group(1)
        opening = f'<article class="message message-{role}" data-status="{status}">'
        assert article.startswith(opening)
        assert "data-message-id" not in article
        assert re.search(r'<div class="message-body message-text[^"]*"></div>', article)


# Whether a refused message was stored -------------------------------------------------


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        pytest.param("", 400, "empty_message", id="empty"),
        pytest.param("x" * 4001, 413, "message_too_long", id="too-long"),
    ],
)
def test_an_error_before_storing_carries_no_message(
    browser: Browser, content: str, status: int, code: str
) -> None:
    response = browser.post("/messages", content=content)
    assert response.status_code == status
    assert response.json == {"error": {"code": code, "message": response.json["error"]["message"]}}
    assert browser.session()["messages"] == []


def test_a_message_refused_while_replying_carries_no_message(app: Flask, browser: Browser) -> None:
    mark_replying(app, browser.session_id)
    response = browser.post("/messages", content="Are you there?")
    assert response.status_code == 409
    assert set(response.json) == {"error"}


@pytest.fixture
def openai_client(app_factory: AppFactory, fake_model: FakeModel) -> FlaskClient:
    return make_openai_app(app_factory, fake_model).test_client()


@pytest.mark.parametrize(
    ("script", "code"),
    [
        pytest.param([401], "model_auth_failed", id="401"),
        pytest.param(["cut"], "reply_interrupted", id="cut-reply"),
    ],
)
def test_an_error_after_storing_carries_the_stored_message(
    openai_client: FlaskClient, fake_model: FakeModel, script: list[int | str], code: str
) -> None:
    browser = Browser(openai_client)
    for step in script:
        if step == "cut":
            fake_model.enqueue_cut_stream(["Hello ", "there"])
        else:
            fake_model.enqueue_error(int(step))

    response = browser.post("/messages", content="They picked someone else.")

    assert response.status_code == 502
    assert response.json["error"]["code"] == code
    assert set(response.json["error"]) == {"code", "message"}
    stored = browser.session()["messages"][0]
    assert response.json["user_message"] == stored
    assert stored["content"] == "They picked someone else."


# The steps the landing page names -----------------------------------------------------


def test_the_landing_page_names_the_frameworks_steps(app: Flask, client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    steps = re.search(r'<ol class="step-list">(.*?)</ol>', page, re.S)
    assert steps
    with app.app_context():
        ordered = frameworks().ordered
    items = re.findall(r"<li><strong>(.*?)\.</strong> (.*?)</li>", steps.group(1))
    assert items == [(str(escape(f.title)), str(escape(f.summary))) for f in ordered]
    assert "Likely causes" not in page
