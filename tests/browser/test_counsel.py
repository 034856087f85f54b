"""Counselor review in a real Chromium: a seeker shares a conversation that raised a
safety flag from the chat page; a counselor signs in, finds it with the flagged
filter, reads it, and adds a note marked visible to the seeker; the seeker sees
the note beside their plan, then stops sharing, and the counselor's access ends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from coach.storage.database import database
from coach.web.auth import create_user
from tests.browser.actions import REPLY_TIMEOUT_MS, send_and_wait, serve_app, start_chat
from tests.conftest import base_config, migrated_app
from tests.counsel_actions import CRISIS, PASSWORD

pytestmark = pytest.mark.browser
COUNSELOR = "counselor@example.org"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    db_dir = tmp_path_factory.mktemp("browser-counsel")
    app = migrated_app(base_config(f"sqlite:///{db_dir}/coach.db"))
    with database(app).make_session() as db:
        create_user(db, COUNSELOR, PASSWORD, "counselor")
    return app


@pytest.fixture(scope="module")
def base_url(app: Flask) -> Iterator[str]:
    yield from serve_app(app)


def share_from_the_chat_page(page: Any) -> int:
    page.locator("#share-button").click()
    page.wait_for_selector("#stop-sharing")
    assert "shared with counselors" in page.locator("#sharing-status").inner_text()
    return int(page.locator("#chat").get_attribute("data-session-id"))


def test_a_counselor_finds_reads_and_notes_a_flagged_shared_session(
    page: Any, browser: Any, base_url: str
) -> None:
    # A seeker: one quiet conversation shared, one that raised a flag shared too.
    start_chat(page)
    send_and_wait(page, "I did not get the job after the second interview")
    quiet_id = share_from_the_chat_page(page)
    page.goto("/")
    page.get_by_role("button", name=re.compile("Start")).first.click()
    page.wait_for_url(re.compile(r"/chat/\d+$"))
    send_and_wait(page, CRISIS)
    flagged_id = share_from_the_chat_page(page)
    assert flagged_id != quiet_id

    counselor_context = browser.new_context(base_url=base_url)
    counselor_context.set_default_timeout(REPLY_TIMEOUT_MS)
    counselor = counselor_context.new_page()
    errors: list[str] = []
    counselor.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        counselor.goto("/login")
        counselor.locator("#login-email").fill(COUNSELOR)
        counselor.locator("#login-password").fill(PASSWORD)
        counselor.locator("#login-button").click()
        counselor.wait_for_url(re.compile(r"/counselor$"))
        rows = counselor.locator("#shared-sessions tbody tr")
        assert rows.count() == 2

        counselor.locator("#filter-flagged").select_option("true")
        counselor.locator("#filter-button").click()
        counselor.wait_for_url(re.compile(r"flagged=true"))
        assert rows.count() == 1
        assert rows.first.get_attribute("data-session-id") == str(flagged_id)
        rows.first.get_by_role("link").click()
        counselor.wait_for_url(re.compile(rf"/counselor/sessions/{flagged_id}$"))

        flagged_message = counselor.locator("article.raised-flag")
        assert flagged_message.count() == 1
        assert "raised flag: crisis" in flagged_message.inner_text()
        assert CRISIS in flagged_message.inner_text()
        assert counselor.locator("#seeker-label").inner_text().startswith("Seeker ")

        counselor.locator("#note-session").fill("I am here if you would like to talk.")
        counselor.locator("#note-session-visible").check()
        counselor.locator("#note-session-save").click()
        counselor.wait_for_url(re.compile(r"#session-notes$"))
        notes = counselor.locator("#session-notes .note")
        assert notes.count() == 1
        assert "visible to the seeker" in notes.first.inner_text()

        # The seeker sees the note beside the plan of that conversation.
        page.goto(f"/chat/{flagged_id}/plan")
        note = page.locator("#counselor-notes")
        assert "I am here if you would like to talk." in note.inner_text()
        page.goto(f"/chat/{quiet_id}/plan")
        assert page.locator("#counselor-notes").count() == 0

        # The counselor puts the note right; the seeker sees the new words, marked edited.
        counselor.locator("#session-notes .note-edit summary").first.click()
        edit = counselor.locator("#session-notes textarea[id^='edit-note-']").first
        edit.fill("I am here whenever you would like to talk.")
        counselor.locator("#session-notes button[id$='-save']").first.click()
        counselor.wait_for_url(re.compile(r"#saved-note-\d+$"))
        assert "edited" in counselor.locator("#session-notes .note").first.inner_text()
        page.goto(f"/chat/{flagged_id}/plan")
        shown = page.locator("#counselor-notes").inner_text()
        assert "I am here whenever you would like to talk." in shown and "edited" in shown

        # The seeker stops sharing: the counselor's next look finds nothing.
        page.goto(f"/chat/{flagged_id}")
        page.locator("#stop-sharing").click()
        page.wait_for_selector("#share-button")
        response = counselor.goto(f"/counselor/sessions/{flagged_id}")
        assert response is not None and response.status == 404
        counselor.goto("/counselor")
        assert [r.get_attribute("data-session-id") for r in rows.all()] == [str(quiet_id)]
    finally:
        counselor_context.close()
    assert errors == []
