"""How the guided rules read a seeker's sentence: clause by clause, in the normal
form of `coach.safety.normalise`, with negation, contrast and other senses of a
word taken into account.

`keyword_rules` decides what a message proposes for the reflection record;
this module answers the one question it asks of each rule: does this phrase
really say that, here? "Not a culture problem" names culture and denies it;
"a live exercise with window functions" uses "exercise" in another sense; "I'm
not angry, just tired" negates only the first clause. The phrases are data
(`prompts/signals.toml` and the frameworks' `keywords`), written in the normal
form and checked when the app starts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from coach.safety.normalise import normalise
from coach.safety.rule_data import compile_phrases

# Punctuation that ends a clause before normalising removes it: "I'm not angry,
# just tired" is two clauses, and the negation stays in the first.
_CLAUSE_PUNCTUATION = re.compile(r"[,;:()\[\]\u2013\u2014]|\s-\s|\.\.+")
# A pattern that can never match: what an empty phrase list compiles to.
_NOTHING = re.compile(r"(?!x)x")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PhraseData(Strict):
    """One rule's phrases as written in `prompts/signals.toml`.

    `phrases` count when affirmed; `when_denied` only when negated ("I wasn't a
    culture fit"); `other_senses` are blanked out first so that the same word
    in another sense cannot match ("walked me through"); `in_feedback` count
    only in a clause reporting what the employer said that is not praise
    ("they said my SQL needed work"). `cancelled_by` act as negation cues for
    this rule alone ("I think they wanted..." is a guess, not feedback). With
    `negation = "clause"` a negation anywhere in the clause cancels a match,
    for phrases that span a subject and its verb ("my family doesn't support
    me").
    """

    phrases: tuple[str, ...] = ()
    when_denied: tuple[str, ...] = ()
    other_senses: tuple[str, ...] = ()
    in_feedback: tuple[str, ...] = ()
    cancelled_by: tuple[str, ...] = ()
    negation: Literal["before", "clause"] = "before"


class ReadingData(Strict):
    negation_cues: tuple[str, ...]
    not_negation: tuple[str, ...]
    clause_breaks: tuple[str, ...]
    to_coach: tuple[str, ...]
    greetings: tuple[str, ...]
    fragment_words: int


def _blank(match: re.Match[str]) -> str:
    """A span that no phrase can match, of the same length so positions hold."""
    return "_" * len(match.group())


def compile_patterns(patterns: Sequence[str], words: Mapping[str, str]) -> re.Pattern[str]:
    return compile_phrases(patterns, words) if patterns else _NOTHING


@dataclass(frozen=True)
class Sentence:
    """One sentence as the seeker wrote it (the evidence) and its clauses."""

    original: str
    normal: str
    clauses: tuple[str, ...]
    question: bool


class Negation:
    """Whether a clause denies what follows a point in it."""

    def __init__(self, data: ReadingData, words: Mapping[str, str]) -> None:
        self._cues = compile_patterns(data.negation_cues, words)
        self._not_negation = compile_patterns(data.not_negation, words)

    def before(self, clause: str, position: int) -> bool:
        return self.anywhere(clause[:position])

    def anywhere(self, text: str) -> bool:
        return bool(self._cues.search(self._not_negation.sub(" ", text)))


class SentenceReader:
    """Splits a message into sentences and clauses and tells which sentences
    speak to the coach rather than about the seeker."""

    def __init__(self, data: ReadingData, words: Mapping[str, str]) -> None:
        self.fragment_words = data.fragment_words
        self._breaks = compile_patterns(data.clause_breaks, words)
        self._to_coach = compile_patterns(data.to_coach, words)
        self._greeting = re.compile(rf"^(?:{compile_patterns(data.greetings, words).pattern})$")

    def sentence(self, original: str) -> Sentence:
        normal = normalise(original)
        clauses = tuple(
            part.strip()
            for piece in _CLAUSE_PUNCTUATION.split(original)
            for part in self._breaks.split(normalise(piece))
            if part.strip()
        )
        return Sentence(original, normal, clauses, original.rstrip().endswith("?"))

    def speaks_to_coach(self, sentence: Sentence) -> bool:
        """Greetings, questions and instructions to the coach: never content."""
        return bool(self._greeting.match(sentence.normal) or self._to_coach.search(sentence.normal))

    def is_fragment(self, sentence: Sentence) -> bool:
        return len(sentence.normal.split()) < self.fragment_words


class PhraseRule:
    """One rule compiled: whether a clause says what its phrases say."""

    def __init__(self, data: PhraseData, words: Mapping[str, str], negation: Negation) -> None:
        self._phrases = compile_patterns(data.phrases, words)
        self._when_denied = compile_patterns(data.when_denied, words)
        self._other_senses = compile_patterns(data.other_senses, words)
        self._in_feedback = compile_patterns(data.in_feedback, words)
        self._cancelled_by = compile_patterns(data.cancelled_by, words)
        self._whole_clause = data.negation == "clause"
        self._negation = negation

    def says(self, clause: str, *, in_feedback: bool = False) -> bool:
        """Whether `clause` says this, not in another sense and not denied.
        `in_feedback`: the clause reports the employer's words and is not praise."""
        return self.first_match(clause, in_feedback=in_feedback) is not None

    def first_match(self, clause: str, *, in_feedback: bool = False) -> re.Match[str] | None:
        text = self._other_senses.sub(_blank, clause)
        denied = list(self._when_denied.finditer(text))
        for match in denied:
            if self._negation.before(text, match.start()):
                return match
        if self._whole_clause and self._negation.anywhere(text):
            return None
        patterns = [self._phrases]
        if in_feedback:
            patterns.append(self._in_feedback)
        for pattern in patterns:
            for match in pattern.finditer(text):
                # "a great culture fit" is not "culture" affirmed; "worried about
                # culture fit" says more than the fit and still counts.
                inside = any(d.start() <= match.start() and match.end() <= d.end() for d in denied)
                if not inside and not self._denied_before(text, match.start()):
                    return match
        return None

    def _denied_before(self, text: str, position: int) -> bool:
        return self._negation.before(text, position) or bool(
            self._cancelled_by.search(text[:position])
        )
