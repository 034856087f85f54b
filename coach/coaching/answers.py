"""How a seeker's message answers what the coach asked last: a yes or a no to what
it proposed (or part of it), a quick reply picked, "Move on" or "Stay here".

The dialogue (`coach.coaching.dialogue`) reads every message through `read_answer`
before anything else; a message the safety rules answered instead is read for its
yes, or the feeling picked, alone (`keep_an_answer`).
"""

from __future__ import annotations

import re

from coach.coaching.dialogue_state import load_state
from coach.coaching.proposals import (
    cause_labels,
    feeling_names,
    kept_by_answer,
    named_entries,
    with_cause_evidence,
    without,
)
from coach.coaching.reading import DialogueRules, Reading, normalise
from coach.guide.frameworks import Frameworks
from coach.guide.move import (
    MAKE_PLAN,
    MOVE_ON,
    NOT_QUITE,
    STAY_HERE,
    TAKE_BREAK,
    YES,
    Answer,
    Move,
)
from coach.guide.record import ReflectionRecord
from coach.storage.models import CoachingSession

FIXED_CHOICES = (YES, NOT_QUITE, MOVE_ON, STAY_HERE, MAKE_PLAN, TAKE_BREAK)


# A yes to moving on that goes on to say the seeker is not done ("yes, but it still
# stings", "sure, although I still feel awful").
HELD_BACK = re.compile(r"\b(?:but|although|though|except|still)\b")


def read_answer(
    last: Move, reading: Reading, chosen: ReflectionRecord, text: str, frameworks: Frameworks
) -> tuple[Answer, ReflectionRecord]:
    """How the message answers the last question, and what it confirms (`chosen`:
    the labels the message names, which a yes or a pick adds to)."""
    answers = reading.answers
    if last.ask == "move_on":
        if "stay" in answers or ("deny" in answers and "move_on" not in answers):
            return "stayed", ReflectionRecord()
        if "move_on" in answers:
            return "moved", ReflectionRecord()
        if "confirm" in answers:
            # "Yes, but I'm still really angry about it": a yes with a but is not
            # consent to leave; they are still here.
            held_back = HELD_BACK.search(normalise(text)) and not reading.consents
            return ("stayed", ReflectionRecord()) if held_back else ("moved", ReflectionRecord())
    if "stay" in answers and last.ask != "confirm":
        return "stayed", ReflectionRecord()
    if last.ask == "confirm" and not last.proposed.is_empty():
        kept = kept_by_answer(last.proposed, text, frameworks)
        if "deny" in answers and not ("confirm" in answers and "not" not in normalise(text)):
            return ("partial", kept) if not kept.is_empty() else ("denied", ReflectionRecord())
        if "confirm" in answers:
            # "Yes, and some embarrassment too": what they name beside the yes counts.
            refused = named_entries(text, frameworks, negated=True)
            if refused.is_empty():
                return "confirmed", last.proposed.merge(chosen)
            return "partial", without(last.proposed, refused).merge(chosen)
        if not kept.is_empty():
            return "partial", kept.merge(with_cause_evidence(chosen, last.proposed))
    if is_choice(text, frameworks, last):
        return "chose", with_cause_evidence(chosen, last.proposed).merge(_chosen_goal(text, last))
    return "none", ReflectionRecord()


def keep_an_answer(
    coaching_session: CoachingSession, text: str, rules: DialogueRules, frameworks: Frameworks
) -> ReflectionRecord:
    """A yes to what the coach proposed last, or a feeling picked from its quick
    replies, in a message the safety rules answered with their check-in ("Yes, and
    honestly a bit hopeless", or "Hopelessness" picked): the seeker said it, and it
    is recorded as the dialogue would record it. Nothing else of the message is read
    into the record. What it kept, so that a "no" right after the check-in can take
    a pick back (`DialogueState.kept_at_check_in`)."""
    last = load_state(coaching_session).move
    if last is None:
        return ReflectionRecord()
    if last.ask == "confirm":
        answer, kept = read_answer(last, rules.read(text), ReflectionRecord(), text, frameworks)
        if answer not in ("confirmed", "partial"):
            return ReflectionRecord()
    elif is_choice(text, frameworks, last):
        kept = named_entries(text, frameworks)
    else:
        return ReflectionRecord()
    if not kept.is_empty():
        record = ReflectionRecord.model_validate(coaching_session.reflection)
        coaching_session.reflection = record.merge(kept).model_dump(mode="json")
    return kept


def is_choice(text: str, frameworks: Frameworks, last: Move) -> bool:
    """Whether the message is one of the labels the seeker can pick (a quick reply)."""
    plain = normalise(text)
    labels = [c.lower() for c in last.choices] + [n.lower() for n in feeling_names(frameworks)]
    labels += [label.lower() for label in cause_labels(frameworks).values()]
    return plain in labels and plain not in (normalise(c) for c in FIXED_CHOICES)


def _chosen_goal(text: str, last: Move) -> ReflectionRecord:
    """A goal (improvement) or a routine (resilience) picked from the last choices."""
    picked = next((c for c in last.choices if normalise(c) == normalise(text)), None)
    if picked is None or picked in FIXED_CHOICES:
        return ReflectionRecord()
    if last.stage == "improvement":
        return ReflectionRecord(goals=[picked])
    if last.stage == "resilience":
        return ReflectionRecord(routine=[picked])
    return ReflectionRecord()
