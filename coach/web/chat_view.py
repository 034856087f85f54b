"""What the chat shows, decided once on the server for the page and for `chat.js`.

The page (`templates/chat.html`) and the script (`coach/static/chat.js`) must show
the same thing, so neither has rules of its own: a message's markup comes from
one Jinja macro (`templates/_message.html`) and travels in the message JSON as
`html`; whether a retry is offered travels in the session JSON as `retry_offered`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import current_app

from coach.storage.models import Message

MESSAGE_TEMPLATE = "_message.html"
BROKEN_REPLY = ("partial", "failed")


def message_html(shown: Mapping[str, Any]) -> str:
    """A message's article, from its JSON form (`message_json`), as the page shows it.

    Rendered from the app's Jinja environment, not with `render_template`, because an
    SSE stream renders after its request has returned: this needs an app context only.
    """
    template = current_app.jinja_env.get_template(MESSAGE_TEMPLATE)
    # A template's macros are attributes made when it runs, unknown to the type checker.
    return str(template.module.message_article(shown))  # type: ignore[attr-defined]


def retry_offered(replying: bool, messages: Sequence[Message]) -> bool:
    """Whether the seeker may have their last message answered again.

    Offered when no reply is being written and the last message still waits for a
    complete reply: it is the seeker's own (the reply never came), or a reply that
    broke off or failed. These are exactly the cases `begin_retry` accepts.
    """
    if replying or not messages:
        return False
    last = messages[-1]
    return last.role == "user" or last.status in BROKEN_REPLY
