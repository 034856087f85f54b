"""What text both databases can store, checked once for every way text comes in
(a JSON body, a message, a user made at the command line).

PostgreSQL refuses a NUL character in text; neither database can store a lone
surrogate (half of a UTF-16 pair, which JSON's `\\ud800` escapes and Python's
`surrogateescape` produce), because it has no UTF-8 form. Left to the database,
either fails a request with a 500, or on SQLite alone succeeds and makes the
two databases disagree; refused at the door, both give the same clear 400.
"""

from __future__ import annotations

from coach.errors import InvalidInput

INVALID_CHARACTERS = "invalid_characters"


def unstorable_reason(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    if "\x00" in text:
        return "a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate, which is not valid Unicode"
    return None


def require_storable(text: str, what: str) -> str:
    """`text` itself, or a 400 `invalid_characters` naming `what` (never the text:
    it may be a seeker's words, and error messages reach the logs)."""
    reason = unstorable_reason(text)
    if reason is not None:
        raise InvalidInput(f"{what} contains {reason}.", code=INVALID_CHARACTERS)
    return text
