"""What the dialogue remembers between turns, stored on the session as `pending`:
the last move (what the coach proposed and asked), the record as the current
stage found it, and the framework items already offered. The reply and the
prompt read the move decided for their message from here.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from coach.guide.move import Move
from coach.guide.record import ReflectionRecord
from coach.storage.models import CoachingSession, Message


class DialogueState(BaseModel):
    """What the session remembers between turns (stored as `pending`)."""

    model_config = ConfigDict(extra="ignore")

    # The last turn's move: what it proposed and what it asked.
    move: Move | None = None
    # The record as the current stage found it: what is new since is this stage's.
    baseline: ReflectionRecord = ReflectionRecord()
    # Framework items offered in this session ("stage/section/key").
    shown: list[str] = []
    # Items and strategies the seeker said they have done already: never offered to
    # them, nor put in their plan.
    done: list[str] = []
    done_strategies: list[str] = []
    # Items the last message made relevant, held back while the coach checked what it
    # heard (that turn asks one thing): the next turn offers them first.
    deferred: list[str] = []
    # What the coach has affirmed in this session (keys of guided.toml's
    # [affirmations]): each is said once; said again it reads as a stock phrase.
    affirmed: list[str] = []
    # The seeker asked for no tips ("I just want to vent"): none is offered until they
    # ask what to do, or go on to what to do about it (the improvement stage).
    quiet: bool = False
    # Topics of the stages' questions the seeker's messages have answered in passing
    # (`Reading.answered`): such a question is not asked.
    answered: list[str] = []
    # The stage's questions asked so far, and the stage turn of the last "Stay here".
    questions: int = 0
    stayed_at: int | None = None
    # The seeker message `move` answers: a turn the safety rules took has none.
    message_id: int | None = None
    # The coach has not yet said it is sorry about the news: the first turn that
    # reflects what the seeker told says so (`Move.sympathy`), once a conversation.
    sympathy_due: bool = False
    # The safety rules' check-in ("how are you doing in yourself?") was the coach's
    # last word: the next reply thanks the seeker for answering it (`Move.after_check_in`).
    checked_in: bool = False
    # What the message the check-in answered kept for the record (a feeling picked):
    # a plain "no" right after takes it back.
    kept_at_check_in: ReflectionRecord = ReflectionRecord()


def load_state(coaching_session: CoachingSession) -> DialogueState:
    if coaching_session.pending:
        return DialogueState.model_validate(coaching_session.pending)
    # A new session, or one from before the dialogue: what it holds counts as found
    # already, and one that holds something is past its opening.
    baseline = ReflectionRecord.model_validate(coaching_session.reflection)
    return DialogueState(baseline=baseline, sympathy_due=baseline.is_empty())


def entered_by_hand(coaching_session: CoachingSession) -> dict[str, object]:
    """The pending state of a stage the seeker chose with the stage control: the
    stage's own memory starts afresh from the record as it is; the session's stays."""
    state = load_state(coaching_session)
    state.move, state.message_id, state.deferred = None, None, []
    state.baseline = ReflectionRecord.model_validate(coaching_session.reflection or {})
    state.questions, state.stayed_at = 0, None
    return state.model_dump(mode="json")


def choices_for(pending: dict[str, Any] | None, message_id: int) -> list[str] | None:
    """The quick replies of the move decided for this seeker message, if any was
    (`pending` as stored)."""
    if not pending:
        return None
    state = DialogueState.model_validate(pending)
    if state.move is None or state.message_id != message_id:
        return None
    return list(state.move.choices) or None


def forget_question(
    coaching_session: CoachingSession,
    *,
    checked_in: bool = False,
    kept: ReflectionRecord | None = None,
) -> dict[str, object] | None:
    """The pending state without the last question: the safety rules answered instead
    (`checked_in`: with a check-in that asked how the seeker is). Their words were the
    coach's first to the seeker's news, so no sorry follows."""
    state = load_state(coaching_session)
    state.move, state.message_id, state.sympathy_due = None, None, False
    state.checked_in = checked_in
    state.kept_at_check_in = kept or ReflectionRecord()
    return state.model_dump(mode="json")


def decided_move(coaching_session: CoachingSession, message: Message) -> Move:
    """The move decided for this seeker message; a plain one in its stage if none was."""
    state = load_state(coaching_session)
    if state.move is not None and state.message_id == message.id:
        return state.move
    return Move(stage=message.stage)
