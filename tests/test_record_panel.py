"""The record panel as the server renders it on the chat page: every list of the
record has its group, entries are escaped text with named buttons, and an empty
record says so."""

from __future__ import annotations

import re

from markupsafe import escape

from coach.coaching.record_corrections import LIST_FIELDS
from coach.guide.record import LikelyCause, ReflectionRecord
from coach.web.chat_view import RECORD_GROUPS
from tests.test_api_reflection import set_record
from tests.test_chat_view import Browser

HOSTILE = '<script>alert("x")</script>'


def panel(page: str) -> str:
    start = page.index('<section id="record-panel"')
    return page[start : page.index("</section>", start)]


def test_every_list_of_the_record_has_one_group_in_its_order():
    assert tuple(group.field for group in RECORD_GROUPS) == LIST_FIELDS


def test_an_empty_record_shows_the_empty_line_and_no_group(client):
    shown = panel(Browser(client).page())
    assert "What we have found so far" in shown
    assert re.search(r'<p class="record-empty" id="record-empty">', shown)
    groups = re.findall(r'<div class="record-group"[^>]*>', shown)
    assert len(groups) == len(RECORD_GROUPS)
    assert all(" hidden" in group for group in groups)


def test_entries_are_escaped_text_with_named_buttons(app, client):
    browser = Browser(client)
    record = ReflectionRecord(
        emotions=["anger"],
        likely_causes=[LikelyCause(cause="culture_fit", evidence=HOSTILE)],
        cause_unknown=False,
        support=[HOSTILE],
    )
    set_record(app, browser.session_id, record)
    shown = panel(browser.page())

    assert "<script>" not in shown
    assert str(escape(HOSTILE)) in shown
    assert "hidden>Nothing is recorded yet" in shown
    assert 'aria-label="Remove feeling: anger"' in shown
    assert 'aria-label="Edit feeling: anger"' in shown
    label = browser.session()["reflection"]["likely_causes"][0]["label"]
    assert f'aria-label="Remove likely cause: {label}"' in shown
    assert f'<span class="record-cause">{label}</span>' in shown
    assert f'aria-label="Remove support: {escape(HOSTILE)}"' in shown
    visible = re.findall(r'<div class="record-group" data-field="(\w+)"[^>]*?(?<! hidden)>', shown)
    assert visible == ["emotions", "likely_causes", "support"]


def test_a_cause_not_known_yet_is_shown(app, client):
    browser = Browser(client)
    set_record(app, browser.session_id, ReflectionRecord(cause_unknown=True))
    shown = panel(browser.page())
    assert '<p class="record-note" id="record-cause-unknown">' in shown
    assert "hidden>Nothing is recorded yet" in shown
