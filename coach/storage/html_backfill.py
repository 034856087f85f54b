"""Storing the HTML of messages written before there was a column for it.

Such rows (content_html NULL, from before migration 0008) are shown correctly
anyway, rendered on every read (`Message.shown_html`); `coach db store-html`
renders each once and stores it, so that they cost no more to show than new
ones. A batch at a time, each in a transaction of its own, so that the app keeps
writing meanwhile; run it again at any time, it only touches rows still without.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from coach.storage.message_html import render_markdown
from coach.storage.models import Message

BATCH = 500


def store_missing_html(db: Session, batch: int = BATCH) -> int:
    """Render and store the HTML of every message without it; how many there were."""
    stored, after = 0, 0
    while True:
        missing = db.scalars(
            select(Message)
            .where(Message.content_html.is_(None), Message.id > after)
            .order_by(Message.id)
            .limit(batch)
        ).all()
        if not missing:
            return stored
        for message in missing:
            session_id = message.coaching_session_id
            message.content_html = render_markdown(message.content, session_id=session_id)
        after = missing[-1].id
        stored += len(missing)
        db.commit()
