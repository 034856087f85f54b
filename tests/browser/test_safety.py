"""Safety in real Chromium: a crisis reply shows the help to reach now, numbers as
tel: links, at once and after a reload, and careful mode keeps it in view."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.actions import ASSISTANT_DONE, send_and_wait, serve_app, start_chat
from tests.conftest import base_config, migrated_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app in guided mode, serving seekers in the United States."""
    db_dir = tmp_path_factory.mktemp("browser-safety")
    config = base_config(f"sqlite:///{db_dir}/coach.db") | {"COACH_CRISIS_REGION": "US"}
    yield from serve_app(migrated_app(config))


def test_a_crisis_reply_shows_the_help_to_reach_now(page: Any) -> None:
    start_chat(page)
    send_and_wait(page, "i dont want to wake up tomorrow")

    reply = page.locator(ASSISTANT_DONE).last
    help_now = reply.locator(".help-now")
    assert help_now.is_visible()
    call = help_now.locator('a[href="tel:988"]')
    assert call.first.is_visible()
    assert help_now.locator('a[href="tel:911"]').is_visible()
    assert "not a crisis service" in reply.inner_text()
    page.screenshot(path="/tmp/coach-crisis.png", full_page=True)

    page.reload()
    # Careful mode: the help stays at the top of the conversation too.
    assert page.locator("main > .help-now a[href='tel:988']").first.is_visible()
    assert page.locator(ASSISTANT_DONE).last.locator(".help-now").is_visible()

    send_and_wait(page, "i dont know")
    check_in = page.locator(ASSISTANT_DONE).last
    assert check_in.locator('.help-now a[href="tel:988"]').first.is_visible()
