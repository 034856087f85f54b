"""The chat in a real Chromium, against the app in guided mode (deterministic replies)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from coach.web.chat_view import message_html
from tests.browser.actions import (
    ASSISTANT_DONE,
    REPLY_TIMEOUT_MS,
    pick_and_wait,
    send_and_wait,
    serve_app,
    start_chat,
)
from tests.conftest import base_config, migrated_app
from tests.conversations import GUIDED_WALK

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app in guided mode."""
    db_dir = tmp_path_factory.mktemp("browser")
    return migrated_app(base_config(f"sqlite:///{db_dir}/coach.db"))


@pytest.fixture(scope="module")
def base_url(app: Flask) -> Iterator[str]:
    yield from serve_app(app)


def test_guest_chat_reply_survives_reload(page: Any) -> None:
    start_chat(page)
    assert page.get_by_text("Guided mode: no AI model is configured").is_visible()

    message = "I feel really disappointed, I was sure I'd get it"
    send_and_wait(page, message)

    user = page.locator("#transcript article.message-user", has_text=message)
    assert user.count() == 1
    assert user.get_attribute("data-message-id")
    reply = page.locator(ASSISTANT_DONE).last
    assert reply.inner_text().strip() != ""
    assert reply.get_attribute("data-message-id")
    assert page.locator("#message-input").input_value() == ""
    assert page.locator("#send-button").is_enabled()
    assert page.locator("#retry-button").is_hidden()
    assert page.locator("#error-text").inner_text() == ""
    page.screenshot(path="/tmp/coach-chat.png", full_page=True)

    page.reload()
    assert page.locator("#transcript article.message-user", has_text=message).count() == 1
    reloaded = page.locator(ASSISTANT_DONE)
    assert reloaded.count() >= 1
    assert reloaded.last.inner_text().strip() != ""
    assert page.locator("#retry-button").is_hidden()


def test_keyboard_only(page: Any) -> None:
    page.goto("/")
    for _ in range(20):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        if focused == "Start as a guest":
            break
    else:
        pytest.fail("Tab never reached the start button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/chat/\d+$"))

    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "message-input":
            break
    else:
        pytest.fail("Tab never reached the message box")

    page.keyboard.type("They said another candidate had more experience.")
    page.keyboard.press("Enter")
    page.wait_for_selector(ASSISTANT_DONE, timeout=REPLY_TIMEOUT_MS)
    assert page.locator(
        "#transcript article.message-user", has_text="another candidate had more experience"
    ).is_visible()
    # Focus stays in the message box, ready for the next message.
    assert page.evaluate("document.activeElement.id") == "message-input"


def test_a_quick_reply_is_sent_as_the_seekers_message(page: Any) -> None:
    start_chat(page)
    send_and_wait(page, "Honestly I'm gutted about it.")
    group = page.locator(ASSISTANT_DONE).last.get_by_role("group", name="Quick replies")
    assert group.get_by_role("button").all_inner_texts() == ["Yes, that's right", "Not quite"]

    pick_and_wait(page, "Yes, that's right")
    picked = page.locator("#transcript article.message-user").last
    assert picked.inner_text().endswith("Yes, that's right")
    assert picked.get_attribute("data-message-id")
    # Only the last coach message's quick replies are active.
    first = page.locator(ASSISTANT_DONE).first.get_by_role("button", name="Not quite")
    assert first.is_disabled()
    latest = page.locator(ASSISTANT_DONE).last.get_by_role("button", name="Move on")
    assert latest.is_enabled()

    # Keyboard: Tab reaches the quick reply, Enter sends it.
    latest.focus()
    before = page.locator(ASSISTANT_DONE).count()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll(" + repr(ASSISTANT_DONE) + ").length > n",
        arg=before,
        timeout=REPLY_TIMEOUT_MS,
    )
    current = page.locator("#stage-progress li[aria-current='step']")
    assert current.get_attribute("data-stage") == "causes"

    page.reload()
    users = page.locator("#transcript article.message-user .message-body").all_inner_texts()
    assert users[-2:] == ["Yes, that's right", "Move on"]


def test_skip_link_is_first_and_visible_on_focus(page: Any) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0, "the focused skip link is off screen"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"


def test_phone_viewport_has_no_horizontal_scroll(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    start_chat(page)
    send_and_wait(page, "A long word to test wrapping: " + "supercalifragilistic" * 6)

    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth,"
        " client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], widths
    page.evaluate("window.scrollTo(0, 0)")
    assert page.locator("#composer").is_visible()
    assert page.locator("#message-input").is_visible()
    assert page.locator("#send-button").is_visible()
    box = page.locator("#send-button").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844, "Send is below the screen"
    assert box["x"] + box["width"] <= 390, "Send is off the right edge"
    page.screenshot(path="/tmp/coach-chat-phone.png")


def test_change_stage_persists(page: Any) -> None:
    start_chat(page)
    current = page.locator("#stage-progress li[aria-current='step']")
    assert current.count() == 1
    assert current.get_attribute("data-stage") == "emotions"

    page.get_by_label("Go to step").select_option("resilience")
    page.get_by_role("button", name="Go", exact=True).click()
    page.wait_for_selector("#stage-progress li[data-stage='resilience'][aria-current='step']")
    assert current.count() == 1
    assert page.locator("#stage-progress li.done").count() == 3
    assert page.locator("#error-text").inner_text() == ""

    page.reload()
    current = page.locator("#stage-progress li[aria-current='step']")
    assert current.get_attribute("data-stage") == "resilience"
    assert "current" in (current.get_attribute("class") or "")
    assert page.locator("#stage-select").input_value() == "resilience"


def test_untrusted_text_is_never_markup(page: Any, dialogs: list[str]) -> None:
    start_chat(page)
    hostile = "<img src=x onerror=alert(1)> and <script>alert(2)</script> <b>bold</b>"
    send_and_wait(page, hostile)

    def check() -> None:
        assert page.locator("#transcript img").count() == 0
        assert page.locator("#transcript script").count() == 0
        assert page.locator("#transcript b").count() == 0
        user = page.locator("#transcript article.message-user").last
        assert user.locator(".message-body").inner_text() == hostile

    check()
    page.reload()
    check()
    page.wait_for_timeout(300)
    assert dialogs == []


def test_empty_message_is_not_sent(page: Any) -> None:
    start_chat(page)
    before = page.locator("#transcript article").count()
    page.locator("#message-input").fill("   \n  ")
    page.locator("#message-input").press("Enter")
    page.wait_for_timeout(300)
    assert page.locator("#transcript article").count() == before


def test_shift_enter_inserts_a_newline(page: Any) -> None:
    start_chat(page)
    box = page.locator("#message-input")
    box.click()
    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    assert box.input_value() == "first line\nsecond line"
    assert page.locator("#transcript article.message-user").count() == 0


def sse(*events: tuple[str, dict[str, Any]]) -> str:
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)


def fake_message(
    app: Flask, message_id: int, role: str, content: str, status: str = "complete"
) -> dict[str, Any]:
    """A message as the API shows it, its markup rendered as the server renders it."""
    shown = {
        "id": message_id,
        "role": role,
        "content": content,
        "content_html": "" if role == "user" else f"<p>{content}</p>",
        "stage": "causes",
        "status": status,
        "created_at": "2025-01-01T00:00:00+00:00",
    }
    with app.app_context():
        return shown | {"html": message_html(shown)}


def test_interrupted_reply_shows_retry_and_retry_streams(page: Any, app: Flask) -> None:
    # Faults cannot be provoked in guided mode, so these two streams are scripted.
    start_chat(page)
    user = fake_message(app, 9001, "user", "What went wrong?")
    broken = sse(
        ("message", {"message": user}),
        ("delta", {"text": "Let us look at "}),
        (
            "error",
            {
                "error": {"code": "model_unavailable", "message": "The coach stopped mid-reply."},
                "retryable": True,
                "reply": fake_message(app, 9002, "assistant", "Let us look at ", "partial"),
            },
        ),
    )
    fixed = sse(
        ("message", {"message": user}),
        ("delta", {"text": "Here is "}),
        ("delta", {"text": "a <b>full</b> reply."}),
        ("done", {"reply": fake_message(app, 9003, "assistant", "Here is a <em>full</em> reply.")}),
    )
    page.route(
        "**/api/v1/sessions/*/messages",
        lambda route: route.fulfill(status=200, content_type="text/event-stream", body=broken),
    )
    retried: list[str] = []

    def answer_retry(route: Any) -> None:
        retried.append(route.request.headers.get("x-csrf-token", ""))
        route.fulfill(status=200, content_type="text/event-stream", body=fixed)

    page.route("**/api/v1/sessions/*/retry", answer_retry)

    page.locator("#message-input").fill("What went wrong?")
    page.locator("#message-input").press("Enter")
    partial = page.locator("#transcript article.message-assistant[data-message-id='9002']")
    partial.wait_for()
    assert partial.get_attribute("data-status") == "partial"
    assert "Let us look at" in partial.inner_text()
    assert "This reply was interrupted." in partial.inner_text()
    assert page.locator("#error-text").inner_text() == "The coach stopped mid-reply."
    assert page.locator("#retry-button").is_visible()
    assert page.locator("#transcript article.message-user[data-message-id='9001']").count() == 1
    # The message event moved the progress bar to the message's stage.
    assert page.locator("#stage-progress li[aria-current='step']").get_attribute("data-stage") == (
        "causes"
    )

    page.locator("#retry-button").click()
    done = page.locator("#transcript article.message-assistant[data-message-id='9003']")
    done.wait_for()
    csrf = page.locator("meta[name='csrf-token']").get_attribute("content")
    assert retried and retried[0] == csrf
    assert done.get_attribute("data-status") == "complete"
    assert done.locator("em").inner_text() == "full"  # the final HTML replaced the streamed text
    assert page.locator("#transcript b").count() == 0  # the streamed text never became markup
    assert page.locator("#retry-button").is_hidden()
    assert page.locator("#error-text").inner_text() == ""
    # Retrying answered the same user message: no second user bubble.
    assert page.locator("#transcript article.message-user").count() == 1


TOO_LONG = "That message is too long."


def test_rejected_message_goes_back_into_the_box(page: Any) -> None:
    start_chat(page)
    page.route(
        "**/api/v1/sessions/*/messages",
        lambda route: route.fulfill(
            status=413,
            content_type="application/json",
            body=json.dumps({"error": {"code": "too_long", "message": TOO_LONG}}),
        ),
    )
    before = page.locator("#transcript article").count()
    page.locator("#message-input").fill("Some text the server turns away")
    page.locator("#message-input").press("Enter")
    page.locator("#error-text").filter(has_text=TOO_LONG).wait_for()
    assert page.locator("#message-input").input_value() == "Some text the server turns away"
    assert page.locator("#transcript article").count() == before
    assert page.locator("#send-button").is_enabled()


def test_delete_asks_first_then_removes_the_conversation(page: Any) -> None:
    start_chat(page)
    send_and_wait(page, "A conversation I will delete")
    chat_url = page.url
    answers = iter([False, True])
    page.on("dialog", lambda dialog: dialog.accept() if next(answers) else dialog.dismiss())

    page.get_by_role("button", name="Delete conversation").click()
    assert page.url == chat_url  # dismissed: nothing happens

    page.get_by_role("button", name="Delete conversation").click()
    page.wait_for_url(re.compile(r"/sessions$"))
    assert page.get_by_text("A conversation I will delete").count() == 0
    response = page.goto(chat_url)
    assert response is not None and response.status == 404


def test_a_guided_conversation_reaches_the_plan_through_every_step(page: Any) -> None:
    start_chat(page)
    seen = []
    for text in GUIDED_WALK:
        send_and_wait(page, text)
        current = page.locator("#stage-progress li[aria-current='step']").get_attribute(
            "data-stage"
        )
        if not seen or seen[-1] != current:
            seen.append(current)
    assert seen == ["emotions", "causes", "improvement", "resilience", "plan"]
    recap = page.locator(ASSISTANT_DONE).last.inner_text()
    assert "Sam" in recap  # the plan step gives back what the seeker said
    assert page.locator("#stage-progress li.done").count() == 4


def test_the_first_question_offers_feelings_and_nothing_on_the_page_fails_to_load(
    page: Any,
) -> None:
    """Every resource the landing and chat pages ask for is there (the icon included:
    a browser asks for one), and the question what they felt has the feelings to
    pick, which a click answers."""
    failed: list[str] = []
    # A resource that fails (the icon too, which is no response of the page's own)
    # is a console error.
    page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
    start_chat(page)
    send_and_wait(page, "hi")
    last = page.locator(ASSISTANT_DONE).last
    assert "what was the very first thing you felt?" in last.inner_text()
    pick_and_wait(page, "Self-doubt")
    reply = page.locator(ASSISTANT_DONE).last.inner_text()
    assert "I have noted self-doubt" in reply or "Noted: self-doubt" in reply
    assert failed == []
