"""The stages of a conversation: when one is done (the design's table), which stage
a seeker asks for in so many words, and the decision for each turn.

A decision reads only what is stored (the session and its reflection record as
the turn finds them), so the same stored conversation always gets the same one.
`stage_turns` counts the seeker turns answered in the current stage, the one
being decided included: 1 on the first turn in a stage, 0 before any.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.guide.frameworks import STAGES, Frameworks, next_stage
from coach.guide.record import ReflectionRecord
from coach.storage.models import CoachingSession

# A stage whose questions have all been asked moves on, so that nobody is held
# in one stage forever by wording the keyword rules do not recognise.
MAX_TURNS_PER_STAGE = 6
# A refusal right before a jump phrase ("I don't want to talk about my feelings")
# makes it no request; plain negations elsewhere ("I don't know what went wrong")
# do not.
REFUSAL = re.compile(
    r"(?<![a-z])(?:don't|do not|won't|can't|cannot|never|rather not|not)"
    r"(?: (?:want|wish|need|like|care|ready))?(?: to)?(?: go)? $"
)
TYPOGRAPHIC_APOSTROPHE = "\u2019"


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
