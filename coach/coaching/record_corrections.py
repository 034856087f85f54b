"""The seeker corrects their reflection record: edits one entry or removes it.

The record is what the coach believes it heard, so the seeker has the last word
on it. An entry is addressed as the seeker saw it: a list field of the record and
a position in that list, optionally with the text that was there (`was`), so
that a record changed meanwhile (by a model reading the turns in the background)
is refused with a 409 rather than corrected in the wrong place.

A correction is refused while a reply is being written, like a second message:
that reply reads the record into its turn and may add to it, so the positions
the seeker saw are not settled until it is stored. The page shows the record
again after every reply, and the seeker corrects it then.
"""

from __future__ import annotations

import unicodedata
from typing import Any, get_origin

from flask import Flask

from coach.coaching.reply_mark import refuse_while_replying
from coach.coaching.sessions import lock_owned_session
from coach.errors import Conflict, InvalidInput
from coach.guide.record import MAX_ITEM_CHARS, LikelyCause, ReflectionRecord
from coach.storage.database import short_transaction

# The record's lists, in the record's own order: its one definition decides.
LIST_FIELDS: tuple[str, ...] = tuple(
    name
    for name, info in ReflectionRecord.model_fields.items()
    if get_origin(info.annotation) is list
)


def correct_record(
    app: Flask,
    user_id: int,
    session_id: int,
    field: str,
    index: int,
    value: str | None,
    was: str | None = None,
) -> ReflectionRecord:
    """Edit (`value` a text) or remove (`value` None) one entry; the record after."""
    if field not in LIST_FIELDS:
        raise InvalidInput(f"field must be one of {', '.join(LIST_FIELDS)}.")
    text = None if value is None else valid_entry_text(value)
    with short_transaction(app) as db:
        # Locked: the check against a reply, the read and the write are one decision.
        coaching_session = lock_owned_session(db, user_id, session_id)
        refuse_while_replying(coaching_session)
        record = ReflectionRecord.model_validate(coaching_session.reflection)
        corrected = apply_correction(record, field, index, text, was)
        coaching_session.reflection = corrected.model_dump(mode="json")
        return corrected


def apply_correction(
    record: ReflectionRecord, field: str, index: int, text: str | None, was: str | None = None
) -> ReflectionRecord:
    """The record with entry `index` of `field` replaced by `text`, or removed."""
    entries: list[Any] = list(getattr(record, field))
    if not 0 <= index < len(entries):
        raise InvalidInput(
            f"index {index} is out of range: {field} has {len(entries)} entries.",
            code="no_such_entry",
        )
    entry = entries[index]
    # For a likely cause the seeker's words are the evidence; the cause is the coach's reading.
    shown = entry.evidence if field == "likely_causes" else entry
    if was is not None and " ".join(was.split()).casefold() != shown.casefold():
        raise Conflict(
            "The record has changed since it was shown; look at it again.",
            code="record_changed",
        )
    if text is None:
        del entries[index]
    elif field == "likely_causes":
        entries[index] = LikelyCause(cause=entry.cause, evidence=text)
    else:
        entries[index] = text
    # Validated again: an edit that now repeats another entry merges with it.
    return ReflectionRecord.model_validate(record.model_dump() | {field: entries})


def valid_entry_text(value: str) -> str:
    """An entry's new text, as the record keeps it (one line), or a clear 400."""
    if any(_unstorable(char) for char in value):
        # NUL cannot be stored in PostgreSQL, a lone surrogate cannot be encoded at all.
        raise InvalidInput(
            "value contains a character that cannot be stored.", code="invalid_characters"
        )
    text = " ".join(value.split())
    if not text:
        raise InvalidInput("value must be a non-empty text, or null to remove the entry.")
    if len(text) > MAX_ITEM_CHARS:
        raise InvalidInput(f"value must be at most {MAX_ITEM_CHARS} characters.")
    return text


def _unstorable(char: str) -> bool:
    # Control characters other than white space (which becomes a plain space) and
    # surrogates (which UTF-8 cannot encode).
    category = unicodedata.category(char)
    return category == "Cs" or (category == "Cc" and not char.isspace())
