"""The conversation engine: which stage a turn is in and what the model is shown.

It decides when a stage is done (the design's table), honours a seeker who asks
for another stage, and bounds the prompt: the newest turns go in verbatim, older
ones are folded into a rolling summary, so that turn 100 costs about what turn 10
does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from coach.frameworks import STAGES, Frameworks, next_stage
from coach.models import CoachingSession, Message
from coach.reflection import ReflectionRecord

# A stage whose questions have all been asked moves on, so that nobody is held
# in one stage forever by wording the keyword rules do not recognise.
MAX_TURNS_PER_STAGE = 6
SUMMARY_LINE_CHARS = 200
SUMMARY_HEADER = "(older turns left out)"
# A refusal right before a jump phrase ("I don't want to talk about my feelings")
# makes it no request; plain negations elsewhere ("I don't know what went wrong")
# do not.
REFUSAL = re.compile(
    r"(?<![a-z])(?:don't|do not|won't|can't|cannot|never|rather not|not)"
    r"(?: (?:want|wish|need|like|care|ready))?(?: to)?(?: go)? $"
)
TYPOGRAPHIC_APOSTROPHE = "\u2019"


@dataclass(frozen=True)
class ChatTurn:
    role: str  # "user" or "assistant"
    content: str


@dataclass(frozen=True)
class TurnPrompt:
    """Everything a provider needs to answer one turn."""

    system: str
    history: tuple[ChatTurn, ...]
    user_message: str
    stage: str
    stage_turn: int  # 1 for the first seeker turn in this stage
    turn_number: int  # 1 for the first seeker turn of the conversation
    record: ReflectionRecord

    def chat_messages(self) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": self.system},
            *({"role": t.role, "content": t.content} for t in self.history),
            {"role": "user", "content": self.user_message},
        ]


@dataclass(frozen=True)
class StageDecision:
    stage: str
    changed: bool
    requested: bool


def stage_is_complete(stage: str, record: ReflectionRecord) -> bool:
    """The design's exit criteria, read from the reflection record."""
    if stage == "emotions":
        return bool(record.emotions)
    if stage == "causes":
        return bool(record.likely_causes) or record.cause_unknown
    if stage == "improvement":
        return bool(record.goals)
    if stage == "resilience":
        return bool(record.routine) and bool(record.support)
    return False  # the plan is the last stage


def requested_stage(text: str, frameworks: Frameworks) -> str | None:
    """The stage the seeker asks for in so many words ("let's make a plan").

    The last request in the message wins ("not my feelings, I want to know what
    went wrong"), and a phrase right after a refusal is not a request.
    """
    lowered = " ".join(text.lower().replace(TYPOGRAPHIC_APOSTROPHE, "'").split())
    found: list[tuple[int, str]] = []
    for framework in frameworks.ordered:
        for phrase in framework.jump_phrases:
            for match in re.finditer(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", lowered):
                if not REFUSAL.search(lowered[max(0, match.start() - 30) : match.start()]):
                    found.append((match.start(), framework.stage))
    return max(found)[1] if found else None


def decide_stage(
    coaching_session: CoachingSession, record: ReflectionRecord, text: str, frameworks: Frameworks
) -> StageDecision:
    """Move the session to the stage this turn belongs in, counting the turn."""
    current = coaching_session.stage
    asked_for = requested_stage(text, frameworks)
    if asked_for:
        # Asking for the stage one is in means staying there, not moving on.
        stage, requested = asked_for, True
    elif coaching_session.stage_turns >= 1 and (
        stage_is_complete(current, record) or coaching_session.stage_turns >= MAX_TURNS_PER_STAGE
    ):
        stage, requested = next_stage(current), False
    else:
        stage, requested = current, False
    changed = stage != current
    coaching_session.stage = stage
    coaching_session.stage_turns = 1 if changed else coaching_session.stage_turns + 1
    return StageDecision(stage=stage, changed=changed, requested=requested)


def set_stage(coaching_session: CoachingSession, stage: str) -> None:
    if stage not in STAGES:
        raise ValueError(stage)
    if stage != coaching_session.stage:
        coaching_session.stage = stage
        coaching_session.stage_turns = 0


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
