"""What the chat shows, decided once on the server for the page and for `chat.js`.

The page (`templates/chat.html`) and the script (`coach/static/chat.js`) must show
the same thing, so neither has rules of its own: a message's markup comes from
one Jinja macro (`templates/_message.html`) and travels in the message JSON as
`html`; whether a retry is offered travels in the session JSON as `retry_offered`.
The record panel ("What we have found so far", `templates/_record.html`) is
rendered by the page and filled again by the script from the session's
`reflection`: both take an entry's markup from the same macro (the script clones
it from a `<template>`), and its groups and their names from `RECORD_GROUPS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from coach.storage.models import Message

MESSAGE_TEMPLATE = "_message.html"
BROKEN_REPLY = ("partial", "failed")


@dataclass(frozen=True)
class RecordGroup:
    """One list of the reflection record as the chat page shows it."""

    field: str
    title: str
    # One entry, for the buttons' names: "Remove feeling: disappointment".
    noun: str


# In the order of the conversation's steps; one per list field of the record.
RECORD_GROUPS = (
    RecordGroup("emotions", "Feelings", "feeling"),
    RecordGroup("likely_causes", "Likely causes", "likely cause"),
    RecordGroup("feedback", "Feedback received", "feedback"),
    RecordGroup("strengths", "Strengths", "strength"),
    RecordGroup("goals", "Goals", "goal"),
    RecordGroup("routine", "Routine", "routine"),
    RecordGroup("support", "Support", "support"),
)


def message_html(shown: Mapping[str, Any]) -> str:
    """A message's article, from its JSON form (`message_json`), as the page shows it.

    Rendered from the app's Jinja environment, not with `render_template`, because an
    SSE stream renders after its request has returned: this needs an app context only.
    """
    template = current_app.jinja_env.get_template(MESSAGE_TEMPLATE)
    # A template's macros are attributes made when it runs, unknown to the type checker.
    return str(template.module.message_article(shown))  # type: ignore[attr-defined]


def retry_offered(replying: bool, last: Message | None) -> bool:
    """Whether the seeker may have their last message answered again.

    Offered when no reply is being written and the conversation's last message still
    waits for a complete reply: it is the seeker's own (the reply never came), or a
    reply that broke off or failed. These are exactly the cases `begin_retry` accepts.
    """
    if replying or last is None:
        return False
    return last.role == "user" or last.status in BROKEN_REPLY
