"""A model's reading of the reflection record: what to add and what to remove.

The model sees the current record and the recent turns and answers in this shape
(a JSON schema). Its answer is checked, not trusted: a likely cause whose evidence
is not found in the seeker's own words is dropped (`apply_reading`), so the record
never holds a quote nobody said. The fields of `ReflectionRecord` are the
additions, so a plain record is a reading that removes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from coach.guide.record import LikelyCause, ReflectionRecord

ListField = Literal[
    "emotions", "likely_causes", "feedback", "strengths", "goals", "routine", "support"
]
TEXT_FIELDS: tuple[ListField, ...] = (
    "emotions",
    "feedback",
    "strengths",
    "goals",
    "routine",
    "support",
)


class Removal(BaseModel):
    """An entry of the current record that the conversation shows to be wrong."""

    model_config = ConfigDict(extra="forbid")

    field: ListField
    # The entry as the record has it; for a likely cause, its evidence.
    entry: str = Field(min_length=1)


class RecordReading(ReflectionRecord):
    """Additions (the record's own fields) and removals (`remove`)."""

    remove: list[Removal] = Field(default_factory=list)

    def additions(self) -> ReflectionRecord:
        return ReflectionRecord.model_validate(self.model_dump(exclude={"remove"}))


@dataclass(frozen=True)
class AppliedReading:
    record: ReflectionRecord
    removed: int  # entries taken out of the record
    unsupported: int  # proposed evidence not found in the seeker's words, dropped


def apply_reading(
    current: ReflectionRecord, reading: RecordReading, seeker_words: list[str]
) -> AppliedReading:
    """The current record with the reading's removals made and its supported additions
    merged in; new evidence must be found in `seeker_words` (the seeker's messages)."""
    kept, removed = _without(current, reading.remove)
    additions = reading.additions()
    known = {_words(c.evidence) for c in kept.likely_causes}
    said = [_words(text) for text in seeker_words]
    supported: list[LikelyCause] = []
    unsupported = 0
    for found in additions.likely_causes:
        if _words(found.evidence) in known:
            continue  # in the record already, perhaps punctuated differently
        if _is_quoted(found.evidence, said):
            supported.append(found)
        else:
            unsupported += 1
    additions = additions.model_copy(update={"likely_causes": supported})
    return AppliedReading(kept.merge(additions), removed=removed, unsupported=unsupported)


def _without(record: ReflectionRecord, removals: list[Removal]) -> tuple[ReflectionRecord, int]:
    gone: dict[str, set[str]] = {}
    for removal in removals:
        gone.setdefault(removal.field, set()).add(_words(removal.entry))
    update: dict[str, object] = {}
    removed = 0
    for field in TEXT_FIELDS:
        values: list[str] = getattr(record, field)
        left = [v for v in values if _words(v) not in gone.get(field, set())]
        removed += len(values) - len(left)
        update[field] = left
    causes = [
        c
        for c in record.likely_causes
        if _words(c.evidence) not in gone.get("likely_causes", set())
    ]
    removed += len(record.likely_causes) - len(causes)
    update["likely_causes"] = causes
    return record.model_copy(update=update), removed


def _words(text: str) -> str:
    """The text as a run of lower-case words: quotes, punctuation and spacing aside."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def _is_quoted(evidence: str, said: list[str]) -> bool:
    """Whether the evidence is found, word for word, in something the seeker said.

    Evidence the record clipped ("…") may end in part of a word, so its last word
    needs only to begin one of theirs.
    """
    words = _words(evidence)
    if not words:
        return False
    if evidence.rstrip().endswith("…"):
        return any(f" {words}" in f" {text}" for text in said)
    return any(f" {words} " in f" {text} " for text in said)
