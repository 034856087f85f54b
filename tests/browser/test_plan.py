"""The plan in a real Chromium, in guided mode: from the chat to a plan (with the
plan form, in words, or with the quick reply), ticking a step off (celebrated),
reloading (still ticked), editing a step, the exports, the home page's progress,
and the mood check-ins."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from coach.guide.move import MAKE_PLAN
from tests.browser.actions import (
    ASSISTANT_DONE,
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
    db_dir = tmp_path_factory.mktemp("browser-plan")
    return migrated_app(base_config(f"sqlite:///{db_dir}/coach.db"))


@pytest.fixture(scope="module")
def base_url(app: Flask) -> Iterator[str]:
    yield from serve_app(app)


def make_the_plan(page: Any) -> None:
    start_chat(page)
    for text in GUIDED_WALK:
        send_and_wait(page, text)
    page.locator("#make-plan").click()
    page.wait_for_url(re.compile(r"/chat/\d+/plan$"))


def test_from_chat_to_plan_tick_a_step_reload_still_ticked(page: Any) -> None:
    make_the_plan(page)
    assert page.get_by_role("heading", name=re.compile("Your plan")).is_visible()
    assert page.get_by_text("Show my distinctive strengths more clearly").first.is_visible()
    total = int(page.locator("#progress-total").inner_text())
    assert page.locator("#progress-done").inner_text() == "0"

    first = page.locator(".step-done").first
    step_id = first.evaluate("box => box.closest('[data-step-id]').dataset.stepId")
    first.check()
    page.wait_for_function("() => document.getElementById('progress-done').textContent === '1'")
    page.wait_for_function("() => document.getElementById('plan-status').textContent.length > 0")
    assert page.locator("#plan-error").inner_text() == ""

    page.reload()
    box = page.locator(f"li[data-step-id='{step_id}'] .step-done")
    assert box.is_checked()
    assert page.locator("#progress-done").inner_text() == "1"
    assert page.locator("#progress-total").inner_text() == str(total)

    # The home page shows the plan's progress.
    page.goto("/sessions")
    assert page.get_by_text(f"1 of {total} steps done").is_visible()


def test_asking_in_words_shows_the_plan_in_the_chat_and_links_to_its_page(page: Any) -> None:
    start_chat(page)
    for text in GUIDED_WALK[:3]:
        send_and_wait(page, text)
    assert page.locator("#see-plan").is_hidden()
    send_and_wait(page, "Can you just write the plan out for me with dates?")
    reply = page.locator(ASSISTANT_DONE).last
    assert "4-week plan" in reply.inner_text()
    assert "guarantee" in reply.inner_text()
    assert page.locator("#see-plan").is_visible()
    assert page.locator("#make-plan").inner_text() == "Make a new plan"
    # The server's markup: the same after a reload, and the link is the plan's page.
    page.reload()
    link = page.locator(ASSISTANT_DONE).last.get_by_role("link", name="Open your plan")
    link.click()
    page.wait_for_url(re.compile(r"/chat/\d+/plan\?version=1$"))
    assert page.get_by_role("heading", name=re.compile("Your plan")).is_visible()
    assert int(page.locator("#progress-total").inner_text()) > 0


def test_the_quick_reply_makes_the_plan_and_its_link_leads_to_ticking_it_off(page: Any) -> None:
    start_chat(page)
    for text in GUIDED_WALK:
        send_and_wait(page, text)
    pick_and_wait(page, MAKE_PLAN)
    reply = page.locator(ASSISTANT_DONE).last
    assert "Show my distinctive strengths more clearly" in reply.inner_text()
    reply.get_by_role("link", name="Open your plan").click()
    page.wait_for_url(re.compile(r"/chat/\d+/plan\?version=1$"))
    first = page.locator(".step-done").first
    step_id = first.evaluate("box => box.closest('[data-step-id]').dataset.stepId")
    first.check()
    page.wait_for_function("() => document.getElementById('progress-done').textContent === '1'")
    page.reload()
    assert page.locator(f"li[data-step-id='{step_id}'] .step-done").is_checked()


def test_editing_a_step_and_the_exports(page: Any) -> None:
    make_the_plan(page)
    step = page.locator(".step").first
    step.get_by_role("button", name=re.compile("^Edit step")).click()
    step.locator("input[name='title']").fill("Ask Sam and Jo what stands out")
    step.locator("input[name='due']").fill("2030-01-15")
    with page.expect_navigation():
        step.get_by_role("button", name="Save").click()
    edited = page.locator(".step").first
    assert edited.locator(".step-title").inner_text() == "Ask Sam and Jo what stands out"
    assert edited.locator("time").get_attribute("datetime") == "2030-01-15"

    markdown = page.request.get(
        page.locator("a", has_text="Download (Markdown)").get_attribute("href")
    )
    assert "Ask Sam and Jo what stands out (due 2030-01-15)" in markdown.text()
    calendar = page.request.get(page.locator("a", has_text="Add to calendar").get_attribute("href"))
    assert calendar.text().startswith("BEGIN:VCALENDAR\r\n")
    page.get_by_role("button", name="Copy plan").click()
    page.wait_for_function(
        "() => document.getElementById('plan-status').textContent.includes('copied')"
    )


def test_mood_checkins_at_the_start_and_end(page: Any) -> None:
    start_chat(page)
    page.locator("#checkin-form input[value='2']").check()
    page.locator("#checkin-form").get_by_role("button", name="Save").click()
    page.wait_for_function("() => document.getElementById('checkin-form').dataset.moment === 'end'")
    assert (
        "end" in page.locator("#checkin-legend").inner_text()
        or "now" in page.locator("#checkin-legend").inner_text()
    )
    page.locator("#checkin-form input[value='4']").check()
    page.locator("#checkin-form").get_by_role("button", name="Save").click()
    page.wait_for_function(
        "() => document.getElementById('checkin-status').textContent.includes('ended at 4')"
    )
    page.reload()
    assert page.locator("#checkin-form").is_hidden()
    assert "started at 2 of 5 and ended at 4 of 5" in page.locator("#checkin-status").inner_text()
