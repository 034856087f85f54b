"""One normal form for the text that the safety rules read.

People in distress type fast: lower case, no apostrophes, typographic quotes,
accents left out or put in, letters held down ("dieeee"), odd spacing. The
rules in `prompts/safety/` are written against this normal form only, so every
such variant of a phrase meets the same pattern.
"""

from __future__ import annotations

import re
import unicodedata

# Removed, not replaced by a space: "don't" and "dont" must read the same, and
# so must "j'ai" and "jai".
APOSTROPHES = "'\u2018\u2019\u02bc\u02bb\u0060\u00b4\u2032\uff07"
_DROP_APOSTROPHES = str.maketrans("", "", APOSTROPHES)
_NOT_A_WORD = re.compile(r"[^a-z0-9]+")
# Three or more of one letter become one: "dieeee" -> "die", "killll" -> "kil".
# No word in the rules' languages has a letter three times over; rules accept
# the single-letter form where a real word has a double letter ("kill?").
_HELD_LETTER = re.compile(r"([a-z])\1{2,}")


def normalise(text: str) -> str:
    """Lower case, without apostrophes, accents, punctuation or held letters,
    words separated by single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    # Invisible format characters (zero-width spaces, joiners) would split a word.
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    text = text.translate(_DROP_APOSTROPHES)
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = _NOT_A_WORD.sub(" ", text)
    text = _HELD_LETTER.sub(r"\1", text)
    return text.strip()
