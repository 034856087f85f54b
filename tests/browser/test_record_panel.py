"""The record panel, "What we have found so far", in a real Chromium: the seeker sees
what the coach recorded, removes and edits entries with the mouse or the keyboard,
and the corrections outlast a reload. Guided mode; the record is set in the
database where a test needs exact entries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect

from coach.guide.frameworks import frameworks
from coach.guide.record import LikelyCause, ReflectionRecord
from coach.storage.database import database
from coach.storage.models import CoachingSession
from tests.browser.actions import pick_and_wait, send_and_wait, serve_app, start_chat
from tests.conftest import base_config, migrated_app
from tests.test_chat_view import mark_replying

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)> <b>bold</b>"
RECORD = ReflectionRecord(
    emotions=["disappointment", "self-doubt"],
    likely_causes=[LikelyCause(cause="skills_gap", evidence="They said my SQL was weak.")],
    feedback=["They said my SQL was weak."],
    strengths=["I reached the final round", HOSTILE],
    goals=["Practise window functions"],
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    db_dir = tmp_path_factory.mktemp("browser-record")
    return migrated_app(base_config(f"sqlite:///{db_dir}/coach.db"))


@pytest.fixture(scope="module")
def base_url(app: Flask) -> Iterator[str]:
    yield from serve_app(app)


def session_id_of(page: Any) -> int:
    match = re.search(r"/chat/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def set_record(app: Flask, session_id: int, record: ReflectionRecord) -> None:
    with database(app).make_session() as db, db.begin():
        db.get_one(CoachingSession, session_id).reflection = record.model_dump(mode="json")


def stored_record(app: Flask, session_id: int) -> ReflectionRecord:
    with database(app).make_session() as db:
        return ReflectionRecord.model_validate(db.get_one(CoachingSession, session_id).reflection)


def chat_with_record(page: Any, app: Flask) -> int:
    """A new conversation whose record is RECORD, as the page shows it on load."""
    start_chat(page)
    session_id = session_id_of(page)
    set_record(app, session_id, RECORD)
    page.reload()
    return session_id


def group(page: Any, field: str) -> Any:
    return page.locator(f"#record-panel .record-group[data-field='{field}']")


def entries(page: Any, field: str) -> list[str]:
    texts: list[str] = group(page, field).locator(".record-evidence").all_inner_texts()
    return texts


def panel_markup(page: Any) -> str:
    """The panel's lists as markup, without the white space between tags."""
    html: str = page.eval_on_selector("#record-panel details", "d => d.innerHTML")
    return re.sub(r">\s+<", "><", html).strip()


def test_an_empty_record_says_so(page: Any) -> None:
    start_chat(page)
    expect(page.get_by_role("heading", name="What we have found so far")).to_be_visible()
    expect(page.locator("#record-empty")).to_be_visible()
    assert page.locator("#record-panel .record-group:visible").count() == 0


def test_remove_one_entry_edit_another_and_reload(page: Any, app: Flask) -> None:
    session_id = chat_with_record(page, app)
    expect(page.locator("#record-empty")).to_be_hidden()
    assert entries(page, "emotions") == ["disappointment", "self-doubt"]
    with app.app_context():
        label = frameworks().cause_label("skills_gap")
    expect(group(page, "likely_causes").locator(".record-cause")).to_have_text(label)
    expect(group(page, "routine")).to_be_hidden()

    page.get_by_role("button", name="Remove feeling: disappointment").click()
    expect(group(page, "emotions").locator(".record-entry")).to_have_count(1)
    assert entries(page, "emotions") == ["self-doubt"]
    # The keyboard lands on what took the removed entry's place.
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == "Remove feeling: self-doubt"

    page.get_by_role("button", name="Edit goal: Practise window functions").click()
    box = page.get_by_role("textbox", name="Edit goal: Practise window functions")
    expect(box).to_be_focused()
    expect(box).to_have_value("Practise window functions")
    box.fill("Practise window functions, 30 minutes a day")
    page.locator("#record-panel").get_by_role("button", name="Save").click()
    expect(group(page, "goals").locator(".record-evidence")).to_have_text(
        "Practise window functions, 30 minutes a day"
    )
    assert page.locator("#record-panel form").count() == 0
    assert page.locator("#record-error").inner_text() == ""

    stored = stored_record(app, session_id)
    assert stored.emotions == ["self-doubt"]
    assert stored.goals == ["Practise window functions, 30 minutes a day"]

    page.reload()
    assert entries(page, "emotions") == ["self-doubt"]
    assert entries(page, "goals") == ["Practise window functions, 30 minutes a day"]
    assert entries(page, "strengths") == RECORD.strengths


def test_editing_with_the_keyboard_alone(page: Any, app: Flask) -> None:
    session_id = chat_with_record(page, app)
    edit = page.get_by_role("button", name=f"Edit likely cause: {_label(app)}")
    edit.focus()
    page.keyboard.press("Enter")
    box = page.locator("#record-edit-input")
    expect(box).to_be_focused()

    # Escape puts the entry back, and the keyboard on its Edit button.
    page.keyboard.type("something else")
    page.keyboard.press("Escape")
    assert page.locator("#record-panel form").count() == 0
    expect(edit).to_be_focused()
    assert entries(page, "likely_causes") == ["They said my SQL was weak."]

    page.keyboard.press("Enter")
    expect(box).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("I froze on the SQL exercise.")
    page.keyboard.press("Enter")
    expect(group(page, "likely_causes").locator(".record-evidence")).to_have_text(
        "I froze on the SQL exercise."
    )
    expect(edit).to_be_focused()
    assert stored_record(app, session_id).likely_causes[0].evidence == (
        "I froze on the SQL exercise."
    )


def test_an_empty_edit_is_not_sent(page: Any, app: Flask) -> None:
    session_id = chat_with_record(page, app)
    page.get_by_role("button", name="Edit feeling: self-doubt").click()
    page.locator("#record-edit-input").fill("   ")
    page.locator("#record-panel").get_by_role("button", name="Save").click()
    expect(page.locator("#record-error")).to_contain_text("Remove")
    assert stored_record(app, session_id) == RECORD


def test_untrusted_entries_stay_text(page: Any, app: Flask, dialogs: list[str]) -> None:
    chat_with_record(page, app)
    assert page.locator("#record-panel img, #record-panel b").count() == 0
    assert HOSTILE in entries(page, "strengths")
    expect(page.get_by_role("button", name=f"Remove strength: {HOSTILE}")).to_be_visible()

    # Shown again by the script after a reply: still only text.
    send_and_wait(page, "I keep thinking about it.")
    expect(page.locator("#record-panel img, #record-panel b")).to_have_count(0)
    assert HOSTILE in entries(page, "strengths")
    page.wait_for_timeout(200)
    assert dialogs == []


def test_the_panel_follows_each_reply_as_a_reload_shows_it(page: Any, app: Flask) -> None:
    start_chat(page)
    send_and_wait(page, "I feel disappointed.")
    expect(page.locator("#record-empty")).to_be_hidden()
    assert entries(page, "emotions"), "the reply's record is not shown"
    live = panel_markup(page)
    page.reload()
    assert panel_markup(page) == live


def test_a_record_changed_meanwhile_is_not_corrected_blindly(page: Any, app: Flask) -> None:
    session_id = chat_with_record(page, app)
    # Another tab (or the model in the background) changes the record under the page.
    set_record(app, session_id, RECORD.model_copy(update={"emotions": ["anger", "self-doubt"]}))
    page.get_by_role("button", name="Remove feeling: disappointment").click()
    expect(page.locator("#record-error")).to_contain_text("changed")
    # The page now shows what is there, and nothing was removed.
    expect(group(page, "emotions").locator(".record-evidence").first).to_have_text("anger")
    assert stored_record(app, session_id).emotions == ["anger", "self-doubt"]


def test_the_panel_fits_a_phone(page: Any, app: Flask) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    long_goal = "A goal with a very long word " + "supercalifragilistic" * 8
    start_chat(page)
    set_record(app, session_id_of(page), RECORD.model_copy(update={"goals": [long_goal]}))
    page.reload()
    page.get_by_role("button", name=re.compile("^Edit goal:")).click()
    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth,"
        " client: document.documentElement.clientWidth})"
    )
    assert widths["scroll"] <= widths["client"], widths
    for name in ("Save", "Cancel"):
        box = page.locator("#record-panel").get_by_role("button", name=name).bounding_box()
        assert box is not None and box["x"] + box["width"] <= 390, f"{name} is off the screen"
    page.screenshot(path="/tmp/coach-record-phone.png", full_page=True)


def _label(app: Flask) -> str:
    with app.app_context():
        return frameworks().cause_label("skills_gap")


def test_a_correction_while_the_coach_answers_is_refused_and_said(page: Any, app: Flask) -> None:
    session_id = chat_with_record(page, app)
    mark_replying(app, session_id)  # as another tab's reply would
    page.get_by_role("button", name="Remove feeling: self-doubt").click()
    expect(page.locator("#record-error")).to_contain_text("still answering")
    assert entries(page, "emotions") == ["disappointment", "self-doubt"]
    assert stored_record(app, session_id) == RECORD


def test_pick_a_quick_reply_correct_the_record_and_reload(page: Any, app: Flask) -> None:
    """The issue's walk: the coach proposes, the seeker confirms with a quick reply,
    corrects what was recorded, and finds it corrected after a reload."""
    start_chat(page)
    send_and_wait(page, "Honestly I'm gutted about it.")
    assert entries(page, "emotions") == []  # proposed, not yet recorded
    pick_and_wait(page, "Yes, that's right")
    # The panel follows the reply once it has fetched the session again.
    expect(group(page, "emotions").locator(".record-evidence")).to_have_count(1)
    [recorded] = entries(page, "emotions")

    page.get_by_role("button", name=f"Edit feeling: {recorded}").click()
    page.get_by_role("textbox", name=f"Edit feeling: {recorded}").fill("gutted, and a bit lost")
    page.locator("#record-panel").get_by_role("button", name="Save").click()
    expect(group(page, "emotions").locator(".record-evidence")).to_have_text(
        ["gutted, and a bit lost"]
    )

    page.reload()
    assert entries(page, "emotions") == ["gutted, and a bit lost"]
    users = page.locator("#transcript article.message-user .message-body").all_inner_texts()
    assert users[-1] == "Yes, that's right"
    assert stored_record(app, session_id_of(page)).emotions == ["gutted, and a bit lost"]
