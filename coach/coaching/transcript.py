"""What the model sees of the conversation: the newest turns verbatim, older ones
folded into a rolling summary, so that turn 100 costs about what turn 10 does.

Turns are folded in chunks, not one at a time: the verbatim turns grow from
`recent` to `recent + chunk` messages, then the oldest `chunk` (or more) are folded
together. Between folds the summary, and so the prompt's beginning, stays the same
from turn to turn, which a provider's prompt cache reuses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from coach.providers.base import ChatTurn
from coach.storage.models import CoachingSession, Message

SUMMARY_LINE_CHARS = 200
# Lines of the summary that are never dropped for space before the others.
OPENING_LINES = 4
SUMMARY_GAP = "(some later turns left out)"
NOTE_PREFIXES = ("- Seeker: ", "- Coach: ")


class StoredTurn(Protocol):
    """What the history reads of a stored message: a `Message`, or a row of these
    columns (a prompt loads only them)."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def content(self) -> str: ...


Turn = TypeVar("Turn", bound=StoredTurn)


def conversation_history(messages: Sequence[Turn]) -> list[Turn]:
    """The turns a model should see: seeker messages and the coach's complete replies."""
    return [m for m in messages if m.role == "user" or m.status == "complete"]


def recent_window(
    messages: Sequence[StoredTurn], summary_through_id: int, most: int
) -> list[ChatTurn]:
    """The newest turns not yet folded into the summary, at most `most` of them."""
    unfolded = [m for m in conversation_history(messages) if m.id > summary_through_id]
    return [ChatTurn(m.role, m.content) for m in unfolded[-most:]]


def window_size(recent: int, chunk: int) -> int:
    """The most turns shown verbatim: the recent ones and a chunk waiting to be folded."""
    return recent + chunk - 1


def fold_old_turns(
    coaching_session: CoachingSession,
    messages: Sequence[Message],
    recent: int,
    max_chars: int,
    chunk: int = 1,
) -> None:
    """Fold the oldest turns into the rolling summary once `chunk` of them wait beyond
    the `recent` ones; until then, leave the summary as it is."""
    unfolded = [
        m for m in conversation_history(messages) if m.id > coaching_session.summary_through_id
    ]
    if not fold_is_due(len(unfolded), recent, chunk):
        return
    leaving = unfolded[:-recent]
    coaching_session.summary = fold_into_summary(coaching_session.summary, leaving, max_chars)
    coaching_session.summary_through_id = leaving[-1].id


def fold_is_due(unfolded: int, recent: int, chunk: int) -> bool:
    """Whether `unfolded` turns past the summary are enough for a fold."""
    return unfolded >= recent + chunk


def fold_into_summary(previous: str, messages: Sequence[Message], max_chars: int) -> str:
    """A plain, deterministic summary: one short note a turn, dropping middle turns first.

    The opening turns say who the person is, how far the process went and what the
    employer said, so the first lines stay; when the summary is too long, the
    oldest line after them goes. A model may rewrite the summary later
    (`coach.coaching.summary_writing`); its text is kept the same way.
    """
    lines = [line for line in previous.splitlines() if line and line != SUMMARY_GAP]
    dropped = SUMMARY_GAP in previous.splitlines()
    lines += [_summary_line(message) for message in messages]

    def size() -> int:
        return len("\n".join(lines)) + (len(SUMMARY_GAP) + 1 if dropped else 0)

    while len(lines) > OPENING_LINES and size() > max_chars:
        lines.pop(OPENING_LINES)
        dropped = True
    while lines and size() > max_chars:
        lines.pop()  # only the opening is left, and it is too long: keep its start
        dropped = True
    if dropped:
        lines.insert(min(OPENING_LINES, len(lines)), SUMMARY_GAP)
    return "\n".join(lines)


def has_turn_notes(summary: str) -> bool:
    """Whether the summary holds notes of turns that no model has summarised yet."""
    return any(line.startswith(NOTE_PREFIXES) for line in summary.splitlines())


def turn_notes(summary: str) -> int:
    return sum(line.startswith(NOTE_PREFIXES) for line in summary.splitlines())


def _summary_line(message: Message) -> str:
    text = " ".join(message.content.split())
    if message.role == "assistant":
        # The coach's question is what the seeker answered next; keep that.
        questions = [s for s in re.split(r"(?<=[.!?])\s+", text) if s.endswith("?")]
        text = questions[-1] if questions else text
        who = "Coach"
    else:
        who = "Seeker"
    if len(text) > SUMMARY_LINE_CHARS:
        text = text[: SUMMARY_LINE_CHARS - 1] + "…"
    return f"- {who}: {text}"
