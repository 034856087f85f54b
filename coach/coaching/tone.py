"""How a turn meets the seeker besides what it asks: reassurance when they ask
whether what they feel is normal, no rush for someone unsure, the sorry on the first
reply to the news, thanks after a check-in. The dialogue (`coach.coaching.dialogue`)
sets these on its move once the turn's question is decided."""

from __future__ import annotations

from coach.coaching.answers import is_choice
from coach.coaching.dialogue_state import DialogueState
from coach.coaching.reading import UNSURE, Reading
from coach.guide.frameworks import Frameworks
from coach.guide.move import Move


def set_tone(
    move: Move,
    state: DialogueState,
    reading: Reading,
    text: str,
    last: Move,
    frameworks: Frameworks,
) -> bool:
    """Sets the move's reassurance, no-rush, sorry and thanks; whether this is the
    first reply to the news (which offers no tip)."""
    move.reassure = reading.asks_normal and move.kind in ("reflect", "fragment")
    found = move.proposed.merge(move.confirmed)
    told_nothing = found.is_empty() and move.removed.is_empty() and not move.feedback_noted
    move.unsure = UNSURE in reading.answers and move.kind == "reflect" and told_nothing
    # The first reply to the news, whether it reflects a feeling heard or one named
    # (typed, or picked as the answer to a question rather than to a check).
    named = move.answer == "chose" and (
        last.ask == "question" or not is_choice(text, frameworks, last)
    )
    told = move.answer == "none" or named
    first_reply = state.sympathy_due and move.kind in ("reflect", "asks_ahead", "fragment")
    first_reply = first_reply and told
    if first_reply:
        # No sorry to someone who says they are relieved: it would tell them how to feel.
        heard = {e.lower() for e in [*move.proposed.emotions, *move.confirmed.emotions]}
        move.sympathy, state.sympathy_due = heard != {"relief"}, False
    move.after_check_in, state.checked_in = state.checked_in, False
    return first_reply
