"""Whole-word search in SQLite, as PostgreSQL's full-text search finds words.

PostgreSQL's `to_tsvector('simple', ...)` breaks text into words at anything that is
not a letter or digit and lowercases them; a search finds a message that holds every
word searched for, whole, in any order. SQLite's LIKE finds any substring and folds
the case of ASCII letters only, so on SQLite each connection gets a function,
`holds_word(text, word)`, that reads words the same way.
"""

from __future__ import annotations

import re
import sqlite3

HOLDS_WORD = "holds_word"
_WORD = re.compile(r"[^\W_]+")


def words_of(text: str) -> list[str]:
    """The words of `text`, lowercased, in order."""
    return _WORD.findall(text.lower())


def holds_word(text: str | None, word: str | None) -> int:
    """1 if `text` holds `word` (one word, lowercased) as a whole word, else 0."""
    if not text or not word:
        return 0
    return int(word in words_of(text))


def register(connection: sqlite3.Connection) -> None:
    connection.create_function(HOLDS_WORD, 2, holds_word, deterministic=True)
