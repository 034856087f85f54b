"""The coach's move for one turn: what the dialogue (`coach.coaching.dialogue`)
decided from stored state, and what a provider turns into words.

Guided mode renders it with its own wording; a model gets it as instructions.
It lives here, beside the record, because both the coaching area (which decides)
and the providers (which write) read it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from coach.guide.record import ReflectionRecord

# What kind of turn this is. "reflect" is the ordinary coaching turn; the others
# answer something the seeker did instead of telling more. "open_question" is a
# question guided mode has no answer for (a model answers it in its own words).
MoveKind = Literal[
    "reflect",
    "fragment",
    "greeting",
    "returning",
    "thanks",
    "coach_question",
    "asks_ahead",
    "open_question",
    "plan",
    "recruiter",
    "break",
    "language",
]
# How the seeker's message answered what the coach asked last turn.
Answer = Literal["confirmed", "denied", "partial", "chose", "stayed", "moved", "none"]
# What the coach asks at the end of this turn.
Ask = Literal["confirm", "what_fits", "move_on", "question", "none"]

YES = "Yes, that's right"
NOT_QUITE = "Not quite"
MOVE_ON = "Move on"
STAY_HERE = "Stay here"
MAKE_PLAN = "Make my plan"
TAKE_BREAK = "Take a break"


class Move(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: MoveKind = "reflect"
    stage: str = "emotions"
    # The stage left on this turn, when the seeker moved on or asked for another.
    left_stage: str | None = None
    answer: Answer = "none"
    # Entries the seeker confirmed or chose on this turn.
    confirmed: ReflectionRecord = ReflectionRecord()
    # Entries the seeker took back on this turn ("I'm not angry", "remove anger"):
    # taken out of the record.
    removed: ReflectionRecord = ReflectionRecord()
    # Entries the coach believes it heard and asks about (not in the record yet).
    proposed: ReflectionRecord = ReflectionRecord()
    # Feedback from the employer recorded on this turn: the seeker's own report.
    feedback_noted: bool = False
    ask: Ask = "none"
    # The stage's summary is due: it is ready, or the cap was reached.
    summarise: bool = False
    choices: list[str] = []
    # Framework items offered on this turn, as "stage/section/key".
    offer: list[str] = []
    # Affirmations of what the seeker shows (keys into the guided wording).
    affirm: list[str] = []
    # Which of the stage's questions to ask (an index), when one is asked.
    question: int = 0
    # The language detected, for a message guided mode cannot answer in English.
    language: str | None = None
    # What an "asks_ahead" turn asked about: "why" (the causes) or "what" (what to do).
    ahead: str | None = None
    # The seeker asked whether what they feel is normal: the coach says it is.
    reassure: bool = False
    # The seeker asked for no tips ("I just want to vent"): the coach says it will
    # listen, and offers none from now until they ask what to do.
    listening: bool = False
    # The seeker asks what to do where that is the step's business (improvement and
    # after): the turn gives ideas from the guide rather than an acknowledgement.
    wants_tips: bool = False
    # Strategies the seeker has done already ("I asked for feedback"): not listed,
    # offered or planned for them.
    skipped_strategies: list[str] = []
    # The seeker said they are not sure and told nothing new ("hmm, still thinking
    # about it all"): the coach says there is no rush, rather than thank them for
    # telling it something.
    unsure: bool = False
    # The first coached turn after the safety rules' check-in: the seeker answered it.
    after_check_in: bool = False
    # The first turn that reflects what the seeker told: the coach says it is sorry
    # about the news before anything else.
    sympathy: bool = False
    # The seeker asked for the plan itself (in words or with the quick reply): the
    # reply is the plan, written and stored, rather than a recap that asks again.
    writes_plan: bool = False
