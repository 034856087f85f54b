"""The chat in a real Chromium against the `openai` provider, with the scripted local
model server: the reply appears while the model is still writing it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from coach.guide.record import ReflectionRecord
from tests.browser.actions import ASSISTANT_DONE, serve_app, start_chat
from tests.conftest import base_config, migrated_app, openai_settings
from tests.fake_model import FakeModel

pytestmark = pytest.mark.browser

EMPTY_RECORD = json.dumps(ReflectionRecord().model_dump(mode="json"))
STREAMING_BUBBLE = "#transcript article.message-assistant[data-status='streaming']"


@pytest.fixture(scope="module")
def base_url(fake_model: FakeModel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with the openai provider pointed at the fake model."""
    db_dir = tmp_path_factory.mktemp("browser-openai")
    config = base_config(f"sqlite:///{db_dir}/coach.db") | openai_settings(fake_model)
    app = migrated_app(config)
    yield from serve_app(app)


def _send(page: Any, text: str) -> None:
    page.locator("#message-input").fill(text)
    page.locator("#message-input").press("Enter")


def test_the_reply_streams_in_as_the_model_writes_it(page: Any, fake_model: FakeModel) -> None:
    chunks = [
        "It makes sense ",
        "to feel flat ",
        "after a second interview. ",
        "**What** hurts most?",
    ]
    fake_model.enqueue_stream(chunks, delay=0.4)
    fake_model.enqueue_json(EMPTY_RECORD)
    start_chat(page)
    assert page.get_by_text("Guided mode: no AI model is configured").count() == 0

    _send(page, "I feel flat.")
    bubble = page.locator(STREAMING_BUBBLE)
    bubble.wait_for()
    page.wait_for_function(
        "([s, t]) => document.querySelector(s)?.textContent.includes(t)",
        arg=[STREAMING_BUBBLE, "to feel flat"],
    )
    # Part of the reply is on screen while the rest is still being written.
    assert "What" not in bubble.inner_text()

    page.wait_for_selector(ASSISTANT_DONE)
    done = page.locator(ASSISTANT_DONE).last
    assert "It makes sense to feel flat after a second interview." in done.inner_text()
    assert done.locator("strong", has_text="What").count() == 1  # Markdown, rendered safely


def test_a_model_that_refuses_the_key_shows_a_clear_error(page: Any, fake_model: FakeModel) -> None:
    fake_model.enqueue_error(401, "Incorrect API key provided")
    start_chat(page)
    _send(page, "Hello?")
    error = page.locator("#error-text")
    error.wait_for()
    page.wait_for_function("() => document.querySelector('#error-text').textContent.length > 0")
    assert "OPENAI_API_KEY" in error.inner_text()
    # Not retryable: trying again cannot help until the key is fixed.
    assert page.locator("#retry-button").is_hidden()
    page.reload()
    assert page.locator("#transcript article.message-user", has_text="Hello?").count() == 1


def test_a_second_tab_waits_for_the_reply_and_then_shows_it(
    page: Any, fake_model: FakeModel
) -> None:
    fake_model.enqueue_stream(["Take ", "your ", "time. ", "What happened next?"], delay=0.5)
    fake_model.enqueue_json(EMPTY_RECORD)
    start_chat(page)
    _send(page, "They called me on Friday.")
    page.locator(STREAMING_BUBBLE).wait_for()

    other = page.context.new_page()
    other.goto(page.url)
    assert "still being written" in other.locator("#error-text").inner_text()
    assert other.locator("#retry-button").is_hidden()

    other.wait_for_selector(ASSISTANT_DONE)
    assert "What happened next?" in other.locator(ASSISTANT_DONE).last.inner_text()
    assert other.locator("#error-text").inner_text() == ""
    assert other.locator("#retry-button").is_hidden()
    other.close()


PARTIAL_BUBBLE = "#transcript article.message-assistant[data-status='partial']"


@pytest.mark.parametrize("how", ["stop button", "escape key"])
def test_the_seeker_stops_a_reply_and_keeps_what_was_written(
    page: Any, fake_model: FakeModel, how: str
) -> None:
    fake_model.enqueue_stream([f"Part {n}. " for n in range(60)], delay=0.2)
    start_chat(page)
    stop = page.locator("#stop-button")
    assert stop.is_hidden()
    abandoned = fake_model.abandoned_streams
    _send(page, "I keep going over what I said.")
    page.wait_for_function(
        "([s, t]) => document.querySelector(s)?.textContent.includes(t)",
        arg=[STREAMING_BUBBLE, "Part 1."],
    )
    assert stop.is_visible()
    if how == "stop button":
        stop.click()
    else:
        page.keyboard.press("Escape")  # the message box has the focus

    page.wait_for_selector(PARTIAL_BUBBLE)
    kept = page.locator(PARTIAL_BUBBLE).last.inner_text()
    assert "Part 1." in kept
    assert "Part 59." not in kept
    assert stop.is_hidden()
    assert page.locator("#retry-button").is_visible()
    assert page.locator("#send-button").is_enabled()
    # The model's stream was closed, not left to run to its end.
    deadline = 50
    while fake_model.abandoned_streams == abandoned and deadline:
        page.wait_for_timeout(100)
        deadline -= 1
    assert fake_model.abandoned_streams == abandoned + 1
    # The server kept it as partial, and offers to try again after a reload too.
    page.reload()
    assert page.locator(PARTIAL_BUBBLE).count() == 1
    assert page.locator("#retry-button").is_visible()
