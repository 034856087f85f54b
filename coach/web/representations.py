"""The JSON shapes of the HTTP contract, built in one place for the API and the UI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from coach.coaching.reply_mark import is_replying
from coach.storage.models import CoachingSession, Message, User
from coach.web.chat_view import message_html, retry_offered
from coach.web.markdown import render_markdown


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC; SQLite hands datetimes back without their zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "role": user.role, "is_guest": user.is_guest, "email": user.email}


def message_json(message: Message) -> dict[str, Any]:
    shown = {
        "id": message.id,
        "role": message.role,
        "content": message.content,
        # Model text is untrusted: the HTML is rendered with raw HTML off and sanitised.
        "content_html": render_markdown(message.content),
        "stage": message.stage,
        "status": message.status,
        "created_at": timestamp(message.created_at),
    }
    # The whole article as the page shows it, so that the script shows the same.
    shown["html"] = message_html(shown)
    return shown


def session_json(
    coaching_session: CoachingSession, messages: list[Message] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": coaching_session.id,
        "title": coaching_session.title,
        "stage": coaching_session.stage,
        "shared": coaching_session.shared,
        "flags": list(coaching_session.flags),
        "replying": is_replying(coaching_session),
        "created_at": timestamp(coaching_session.created_at),
        "updated_at": timestamp(coaching_session.updated_at),
    }
    if messages is not None:
        body["messages"] = [message_json(m) for m in messages]
        # The rule needs the messages, so it comes with them.
        body["retry_offered"] = retry_offered(body["replying"], messages)
    return body
