"""The page and the script show the same thing: whatever way a reply reaches the page
(streamed, broken off, cut short by a proxy, refused), the transcript and the retry
button are exactly what a reload of the page shows. The app uses the `openai`
provider against the scripted local model, so that replies can fail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from coach.guide.record import ReflectionRecord
from tests.browser.actions import ASSISTANT_DONE, serve_app, start_chat
from tests.conftest import base_config, migrated_app, openai_settings
from tests.fake_model import FakeModel

pytestmark = pytest.mark.browser

EMPTY_RECORD = json.dumps(ReflectionRecord().model_dump(mode="json"))
MESSAGES = "**/api/v1/sessions/*/messages"
PROXY_PAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"


@pytest.fixture(scope="module")
def base_url(fake_model: FakeModel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db_dir = tmp_path_factory.mktemp("browser-markup")
    config = base_config(f"sqlite:///{db_dir}/coach.db") | openai_settings(
        fake_model, COACH_MODEL_ATTEMPTS=1
    )
    yield from serve_app(migrated_app(config))


def transcript(page: Any) -> list[str]:
    """Every message of the transcript, as markup."""
    result: list[str] = page.eval_on_selector_all(
        "#transcript article.message", "articles => articles.map(a => a.outerHTML)"
    )
    return result


def send(page: Any, text: str) -> None:
    page.locator("#message-input").fill(text)
    page.locator("#message-input").press("Enter")


def assert_same_after_reload(page: Any, *, retry: bool) -> None:
    """The transcript and the retry button are what the server renders on a reload."""
    retry_button = page.locator("#retry-button")
    expect(retry_button).to_be_visible() if retry else expect(retry_button).to_be_hidden()
    live = transcript(page)
    assert live, "nothing is shown"
    page.reload()
    assert transcript(page) == live
    expect(retry_button).to_be_visible() if retry else expect(retry_button).to_be_hidden()


def test_a_streamed_reply_has_the_markup_of_a_reload(page: Any, fake_model: FakeModel) -> None:
    fake_model.enqueue_stream(["It sounds **hard**. ", "<b>What</b> happened?"], delay=0.1)
    fake_model.enqueue_json(EMPTY_RECORD)
    start_chat(page)

    send(page, "They said <i>no</i>\nagain.")
    page.wait_for_selector(ASSISTANT_DONE)

    assert page.locator("#transcript i, #transcript b").count() == 0
    assert page.locator(ASSISTANT_DONE).locator("strong").inner_text() == "hard"
    assert_same_after_reload(page, retry=False)


def test_a_reply_that_broke_off_shows_what_a_reload_shows(page: Any, fake_model: FakeModel) -> None:
    fake_model.enqueue_broken_stream(["Let us ", "look at "])
    start_chat(page)

    send(page, "What went wrong?")
    partial = page.locator("#transcript article.message-assistant[data-status='partial']")
    partial.wait_for()
    assert "This reply was interrupted." in partial.inner_text()
    assert_same_after_reload(page, retry=True)

    fake_model.enqueue_stream(["Let us look at ", "what they said."])
    fake_model.enqueue_json(EMPTY_RECORD)
    page.locator("#retry-button").click()
    page.wait_for_selector(ASSISTANT_DONE)
    assert page.locator("#transcript article.message-user").count() == 1
    assert_same_after_reload(page, retry=False)


def test_a_stream_cut_short_is_completed_from_the_server(page: Any, fake_model: FakeModel) -> None:
    fake_model.enqueue_stream(["Take your time. ", "What happened next?"])
    fake_model.enqueue_json(EMPTY_RECORD)
    start_chat(page)

    def cut_before_done(route: Any) -> None:
        # A proxy that drops the connection after the server has stored the reply.
        response = route.fetch()
        body = response.text()
        route.fulfill(response=response, body=body[: body.index("event: done")])

    page.route(MESSAGES, cut_before_done)
    send(page, "They called me on Friday.")
    page.wait_for_selector(ASSISTANT_DONE)

    assert "connection was lost" in page.locator("#error-text").inner_text()
    assert page.locator("#transcript article.message:not([data-message-id])").count() == 0
    assert "What happened next?" in page.locator(ASSISTANT_DONE).inner_text()
    page.unroute(MESSAGES)
    assert_same_after_reload(page, retry=False)


def test_an_error_that_carries_the_stored_message_shows_it(
    page: Any, fake_model: FakeModel
) -> None:
    fake_model.enqueue_error(401, "Incorrect API key provided")
    start_chat(page)

    def as_json(route: Any) -> None:
        # The JSON form of the same request: its error says the message was stored.
        route.fulfill(response=route.fetch(headers=route.request.headers | {"accept": "*/*"}))

    page.route(MESSAGES, as_json)
    send(page, "Hello?")
    failed = page.locator("#transcript article.message-assistant[data-status='failed']")
    failed.wait_for()  # the failed reply, which only the server could know of

    assert "OPENAI_API_KEY" in page.locator("#error-text").inner_text()
    assert page.locator("#message-input").input_value() == ""  # stored: not given back
    page.unroute(MESSAGES)
    assert_same_after_reload(page, retry=True)


@pytest.mark.parametrize("reached_the_server", [False, True])
def test_a_proxy_error_page_asks_the_server_whether_the_message_was_stored(
    page: Any, fake_model: FakeModel, reached_the_server: bool
) -> None:
    text = "Did this arrive?"
    start_chat(page)
    if reached_the_server:
        fake_model.enqueue_stream(["It did. ", "What is on your mind?"])
        fake_model.enqueue_json(EMPTY_RECORD)

    def proxy_error(route: Any) -> None:
        if reached_the_server:
            route.fetch()
        route.fulfill(status=502, content_type="text/html", body=PROXY_PAGE)

    page.route(MESSAGES, proxy_error)
    send(page, text)
    expect(page.locator("#error-text")).to_contain_text("error 502")

    if reached_the_server:
        page.wait_for_selector(ASSISTANT_DONE)
        assert page.locator("#transcript article.message-user", has_text=text).count() == 1
        assert page.locator("#message-input").input_value() == ""
        page.unroute(MESSAGES)
        assert_same_after_reload(page, retry=False)
    else:
        expect(page.locator("#message-input")).to_have_value(text)
        assert transcript(page) == []
        expect(page.locator("#retry-button")).to_be_hidden()
