"""The stages of a conversation: when one is ready to leave (the design's table,
read from what was confirmed during it), which stage a seeker asks for in so many
words, and which of a stage's questions is still open. The dialogue
(`coach.coaching.dialogue`) decides each turn's stage from these, by readiness and
consent.

`stage_turns` counts the seeker turns answered in the current stage, the one
being decided included: 1 on the first turn in a stage, 0 before any.
"""

from __future__ import annotations

import re

from coach.coaching.dialogue_state import DialogueState, entered_by_hand
from coach.guide.frameworks import STAGES, Framework, Frameworks
from coach.guide.record import ReflectionRecord
from coach.storage.models import CoachingSession

# A refusal right before a jump phrase ("I don't want to talk about my feelings")
# makes it no request; plain negations elsewhere ("I don't know what went wrong")
# do not.
REFUSAL = re.compile(
    r"(?<![a-z])(?:don't|do not|won't|can't|cannot|never|rather not|not)"
    r"(?: (?:want|wish|need|like|care|ready))?(?: to)?(?: go)? $"
)
TYPOGRAPHIC_APOSTROPHE = "\u2019"


def stage_is_complete(stage: str, record: ReflectionRecord) -> bool:
    """The design's exit criteria, read from a record: the dialogue passes what
    was confirmed during the stage, so something said earlier for another stage
    never ends this one."""
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
            if phrase not in lowered:  # most phrases are not there: no pattern to build
                continue
            for match in re.finditer(rf"(?<![a-z]){re.escape(phrase)}(?![a-z])", lowered):
                if not REFUSAL.search(lowered[max(0, match.start() - 30) : match.start()]):
                    found.append((match.start(), framework.stage))
    return max(found)[1] if found else None


def set_stage(coaching_session: CoachingSession, stage: str) -> None:
    if stage not in STAGES:
        raise ValueError(stage)
    if stage != coaching_session.stage:
        coaching_session.stage = stage
        coaching_session.stage_turns = 0
        # The new stage starts from the record as it is, and nothing is pending; what
        # the session remembers throughout (items shown, affirmations said, what the
        # seeker has done, asked for no tips) stays.
        coaching_session.pending = entered_by_hand(coaching_session)


def next_open_question(framework: Framework, state: DialogueState, record: ReflectionRecord) -> int:
    """The next of the stage's questions the seeker has not answered already, in
    passing or in the record ("what did you feel?" once they have said); the next
    one anyway when they have answered them all."""
    count = len(framework.questions)
    for index in range(state.questions, state.questions + count):
        names = framework.question(index).answered_by
        if not any(record.holds(name) or name in state.answered for name in names):
            return index
    return state.questions
