"""Model and seeker text to safe HTML, for the web layer's callers.

The renderer itself lives in storage (`coach.storage.message_html`), which stores
each message's HTML when it is written; this is the same function, so that a
page rendering text that is not a stored message sanitises it the same way.
"""

from __future__ import annotations

from coach.storage.message_html import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    render_markdown,
)

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "ALLOWED_URL_SCHEMES", "render_markdown"]
