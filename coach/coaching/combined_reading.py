"""The record's reading and the summary's rewrite in one model request.

Once a stage ends the model reads its turns into the record
(`coach.coaching.record_refinement`); when the summary holds notes that no model
has summarised (`coach.coaching.summary_writing`), the same request asks for the
rewrite too, so that a fold costs no request of its own. Each part is shown what
it would be shown on its own (the record and the stage's turns; the summary and
the turns behind its notes) and is checked as it would be: the reading's evidence
against the seeker's words, the summary's length against its limit.

An answer that does not fit, even after the repair attempt, leaves both as they
were: the keyword rules' record and the notes stand, and the notes wait for the
next reading (or are rewritten on their own once they outgrow their cap).
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask
from pydantic import BaseModel, ConfigDict, Field

from coach.coaching.prompts import prompt_book
from coach.coaching.summary_writing import PendingSummary
from coach.errors import ModelUnavailable
from coach.guide.frameworks import CAUSES
from coach.guide.record import ReflectionRecord
from coach.guide.record_reading import RecordReading
from coach.providers import ChatTurn, provider

log = logging.getLogger(__name__)

# The JSON schema's name, which is also the request's purpose in the eval cassettes.
SCHEMA_NAME = "record_and_summary"
# The reading's allowance and the summary's (as the provider asks for each alone).
MAX_TOKENS = 800 + 700


class ReadingWithSummary(BaseModel):
    """The model's answer: the record's reading and the rewritten summary."""

    model_config = ConfigDict(extra="forbid")
    reading: RecordReading
    summary: str = Field(min_length=1)


@dataclass(frozen=True)
class CombinedAnswer:
    """What the combined request gave; None where that part must fall back."""

    reading: RecordReading | None = None
    summary: str | None = None


@functools.cache
def answer_schema() -> dict[str, Any]:
    """Built once, not per request (pydantic builds it afresh on every call)."""
    return ReadingWithSummary.model_json_schema()


def read_with_summary(
    app: Flask,
    session_id: int,
    record: ReflectionRecord,
    turns: list[ChatTurn],
    pending: PendingSummary,
) -> CombinedAnswer:
    """Ask the model for the record's reading of `turns` and the rewrite of `pending`."""
    instructions = prompt_book(app).render(
        "record_and_summary.j2",
        causes=CAUSES,
        max_chars=app.config["COACH_SUMMARY_MAX_CHARS"],
    )
    try:
        answer = provider(app).complete_structured(
            instructions,
            combined_content(record, turns, pending),
            name=SCHEMA_NAME,
            schema=answer_schema(),
            parse=ReadingWithSummary.model_validate_json,
            max_tokens=MAX_TOKENS,
        )
    except ModelUnavailable as exc:
        log.warning("record and summary not read together for session %s: %s", session_id, exc.code)
        return CombinedAnswer()
    if answer is None:  # a server that refuses JSON schemas
        return CombinedAnswer()
    return CombinedAnswer(answer.reading, answer.summary.strip() or None)


def combined_content(
    record: ReflectionRecord, turns: list[ChatTurn], pending: PendingSummary
) -> str:
    """Each part's data under its own heading, as each request alone would show it."""
    current = json.dumps(record.model_dump(mode="json"), ensure_ascii=False)
    return "\n\n".join(
        [
            "# For the first part: the record",
            f"The record so far:\n{current}",
            f"The conversation, oldest first:\n{_transcript(turns)}",
            "# For the second part: the summary",
            f"The summary so far:\n{pending.summary}",
            f"The most recent of its turns in full, oldest first:\n{_transcript(pending.turns)}",
        ]
    )


def _transcript(turns: list[ChatTurn]) -> str:
    return "\n".join(f"{t.role}: {t.content}" for t in turns)
