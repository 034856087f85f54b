"""A long conversation in a real Chromium: the chat opens at its newest messages
with "Show earlier messages" above them; each click puts the page before on top,
keeping in view what the seeker was reading, until the conversation's start is
shown and the button goes. The messages are written in the database; guided mode."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from coach.coaching.sessions import MESSAGES_SHOWN
from tests.browser.actions import send_and_wait, serve_app, start_chat
from tests.conftest import base_config, migrated_app
from tests.test_message_pages import add_messages, all_ids

pytestmark = pytest.mark.browser

LONG = 2 * MESSAGES_SHOWN + 30


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    db_dir = tmp_path_factory.mktemp("browser-long")
    return migrated_app(base_config(f"sqlite:///{db_dir}/coach.db"))


@pytest.fixture(scope="module")
def base_url(app: Flask) -> Iterator[str]:
    yield from serve_app(app)


def shown_ids(page: Any) -> list[int]:
    found = page.locator("#transcript article.message").evaluate_all(
        "articles => articles.map(a => Number(a.dataset.messageId))"
    )
    return list(found)


def message(page: Any, message_id: int) -> Any:
    return page.locator(f'#transcript article.message[data-message-id="{message_id}"]')


def test_a_long_conversation_shows_earlier_messages_on_demand(app: Flask, page: Any) -> None:
    start_chat(page)
    session_id = int(re.search(r"/chat/(\d+)$", page.url)[1])  # type: ignore[index]
    earlier = page.get_by_role("button", name="Show earlier messages")
    expect(earlier).to_be_hidden()  # a new conversation has nothing before it

    add_messages(app, session_id, LONG)
    page.reload()
    everything = all_ids(app, session_id)
    expect(page.locator("#transcript article.message")).to_have_count(MESSAGES_SHOWN)
    assert shown_ids(page) == everything[-MESSAGES_SHOWN:]
    expect(earlier).to_be_visible()

    reading = everything[-MESSAGES_SHOWN]
    earlier.click()
    expect(page.locator("#transcript article.message")).to_have_count(2 * MESSAGES_SHOWN)
    assert shown_ids(page) == everything[-2 * MESSAGES_SHOWN :]
    expect(message(page, reading)).to_be_in_viewport()  # what was read stays in view
    expect(page.locator("#status-text")).to_have_text(f"{MESSAGES_SHOWN} earlier messages shown.")
    expect(earlier).to_be_visible()

    earlier.click()
    expect(page.locator("#transcript article.message")).to_have_count(LONG)
    assert shown_ids(page) == everything
    expect(message(page, everything[0])).to_contain_text("message 0")
    expect(earlier).to_be_hidden()

    # The conversation goes on below the older messages, as before.
    send_and_wait(page, "I feel let down after the final round.")
    assert shown_ids(page)[: len(everything)] == everything
    assert len(shown_ids(page)) == LONG + 2
