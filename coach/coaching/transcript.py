"""What the model sees of the conversation: the newest turns verbatim, older ones
folded into a rolling summary, so that turn 100 costs about what turn 10 does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from coach.providers.base import ChatTurn
from coach.storage.models import CoachingSession, Message

SUMMARY_LINE_CHARS = 200
SUMMARY_HEADER = "(older turns left out)"


def conversation_history(messages: Sequence[Message]) -> list[Message]:
    """The turns a model should see: seeker messages and the coach's complete replies."""
    return [m for m in messages if m.role == "user" or m.status == "complete"]


def recent_window(
    messages: Sequence[Message], summary_through_id: int, recent: int
) -> list[ChatTurn]:
    """The newest turns not yet folded into the summary, at most `recent` of them."""
    unfolded = [m for m in conversation_history(messages) if m.id > summary_through_id]
    return [ChatTurn(m.role, m.content) for m in unfolded[-recent:]]


def fold_old_turns(
    coaching_session: CoachingSession, messages: Sequence[Message], recent: int, max_chars: int
) -> None:
    """Fold turns that have left the recent window into the rolling summary."""
    history = conversation_history(messages)
    leaving = [m for m in history[:-recent] if m.id > coaching_session.summary_through_id]
    if not leaving:
        return
    coaching_session.summary = fold_into_summary(coaching_session.summary, leaving, max_chars)
    coaching_session.summary_through_id = leaving[-1].id


def fold_into_summary(previous: str, messages: Sequence[Message], max_chars: int) -> str:
    """A plain, deterministic summary: one short line a turn, oldest lines dropped first.

    The reflection record already carries the facts that matter; the summary only
    keeps the thread of the conversation, so a bounded list of lines is enough.
    """
    lines = [line for line in previous.splitlines() if line and line != SUMMARY_HEADER]
    for message in messages:
        lines.append(_summary_line(message))
    dropped = False
    while lines and len("\n".join(lines)) + len(SUMMARY_HEADER) + 1 > max_chars:
        lines.pop(0)
        dropped = True
    return "\n".join(([SUMMARY_HEADER] if dropped else []) + lines)


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
