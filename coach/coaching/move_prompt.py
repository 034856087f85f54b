"""The dialogue's move for a turn, told to a model: instructions with no word of
the seeker's in them, and the proposed and confirmed entries as data.

`build_chat_prompt` (`coach.coaching.prompts`) puts them in the turn's note, the
instructions before its delimited data block and the entries inside it, so the model
is asked to do what guided mode would do on the same stored state: check what it
heard, summarise and ask before a stage changes, honour a request, keep a fragment's
turn short.
"""

from __future__ import annotations

from collections.abc import Callable

from coach.guide.frameworks import Frameworks, next_stage
from coach.guide.move import MAKE_PLAN, Move
from coach.guide.record import ReflectionRecord

ALWAYS = (
    "Never open your reply by quoting the seeker's words back; "
    "say in your own words what you understood."
)


def move_instructions(move: Move, frameworks: Frameworks) -> str:
    """What to do on this turn, in the instructions' own words."""
    lines = ["What to do on this turn:"]
    title = frameworks.stage(move.stage).title
    kind_lines = {
        "recruiter": "The seeker asked for help replying to the recruiter. Write a short, polite "
        'reply as a Markdown blockquote (every line starting with "> ") that thanks them and '
        "asks for specific feedback, then add one sentence on why a sharp reply would close "
        "a door.",
        "break": "The seeker wants a break. Close warmly in two sentences: say the conversation "
        "is kept and they can pick it up whenever they like. Ask nothing.",
        # A plan asked for in so many words is written as structured output and shown
        # by `coach.plans.chat`: a turn that reaches the model here arrived at the plan
        # stage another way, and checks the record before the plan is written.
        "plan": "The conversation has reached the action plan. Recap in a few lines what the "
        "seeker has learned and the goals, routine and support in the information block, then "
        f'ask whether anything should change before the plan is written; the "{MAKE_PLAN}" '
        "quick reply has it written.",
        "fragment": "The seeker answered in a word or two. Keep this turn very short, offer the "
        "quick replies below instead of an open question, and say it is fine to pause.",
        "greeting": "The seeker greeted you. Greet them briefly; there is nothing to reflect.",
        "returning": "The seeker is back after a pause. Welcome them back in a sentence, say "
        "everything is kept, and pick up with this step's question.",
        "thanks": "The seeker thanked you. Say they are welcome in a few words; there is "
        "nothing to reflect.",
        "coach_question": "The seeker asked about you or how this works. Answer briefly and "
        "honestly (you are an automated coach); do not treat it as news about them.",
        "asks_ahead": "The seeker asked about something a later step of this conversation "
        "comes to (why they were turned down, or what to do now). Do not guess a cause or "
        "give advice yet: say in a sentence that you will come to it and why this step "
        "comes first, and that they can ask for their plan at any time; then ask this "
        "step's question.",
    }
    if move.kind in kind_lines:
        lines.append("- " + kind_lines[move.kind])
    if move.listening:
        lines.append(
            "- The seeker asked for no tips, only to be heard. Say in a few words that you "
            "are listening; offer no advice or suggestions until they ask what to do."
        )
    if move.reassure:
        lines.append(
            "- The seeker asked whether what they feel is normal. Say plainly, in a "
            "sentence, that it is common after a rejection like this and makes sense."
        )
    if move.wants_tips:
        lines.append(
            "- The seeker asks what to do. Give one or two concrete ideas from the guide's "
            "material for this step that fit what they said, briefly, then ask your question."
        )
    if move.skipped_strategies:
        # Strategy names from the catalogue, never the seeker's words.
        done = ", ".join(
            frameworks.catalogue.strategies[key].name for key in move.skipped_strategies
        )
        lines.append(
            f"- The seeker has done these already, or has what they bring: {done}. Do not "
            "suggest them."
        )
    if move.unsure:
        lines.append(
            "- The seeker says they are not sure, and told nothing new. Say there is no "
            "rush; do not press them or guess for them."
        )
    if move.after_check_in:
        lines.append(
            "- Your last words were a check-in on how the seeker is doing, and this message "
            "answers it: thank them for telling you, briefly, and presume nothing beyond "
            "what they said."
        )
    if not move.removed.is_empty():
        lines.append(
            "- The seeker took back the entries listed as taken out of the record on this "
            "turn in the information block; they are out of the record. Say so in a few "
            "words, without arguing."
        )
    if move.answer in ("confirmed", "chose", "partial") or not move.confirmed.is_empty():
        lines.append(
            "- The seeker confirmed the entries listed as confirmed on this turn in the "
            "information block; acknowledge them briefly."
        )
    if move.answer == "denied":
        lines.append(
            "- The seeker said your last reflection did not fit: accept that without arguing "
            "and ask what fits better."
        )
    if move.left_stage:
        left = frameworks.stage(move.left_stage).title
        summarise = (
            f"Summarise what was found in {left} in one or two sentences"
            if move.summarise
            else f"Your last message summarised {left}: do not repeat it"
        )
        lines.append(
            f"- The conversation has just moved from {left} to {title}. {summarise}, then "
            "open this step with one question."
        )
    if move.ask == "confirm":
        lines.append(
            "- Reflect the entries listed as proposed in the information block, in your own "
            "words, and ask the seeker whether that is right. They are guesses until the "
            "seeker confirms them."
        )
    elif move.ask == "move_on":
        following = frameworks.stage(next_stage(move.stage)).title
        lines.append(
            f"- This step looks done. Summarise what was found in {title} in two or three "
            f"sentences and ask whether to move on to {following} or stay here."
        )
    for ref in move.offer:
        stage, section, key = ref.split("/")
        item = frameworks.stage(stage).section(section).item(key)
        lines.append(f"- If it fits, offer this from the guide by name: {item.name}: {item.text}")
    if move.choices:
        lines.append("- Quick replies shown under your message: " + "; ".join(move.choices) + ".")
    lines.append("- " + ALWAYS)
    return "\n".join(lines) + "\n"


def move_data(move: Move, frameworks: Frameworks, as_data: Callable[[object], str]) -> str:
    """The entries of the move, as information for the data block."""
    parts = []
    for heading, record in (
        ("Proposed on this turn, not yet confirmed", move.proposed),
        ("Confirmed by the seeker on this turn", move.confirmed),
        ("Taken out of the record on this turn, at the seeker's word", move.removed),
    ):
        if not record.is_empty():
            parts.append(f"{heading}:\n{_entries(record, frameworks, as_data)}")
    return "\n".join(parts)


def _entries(
    record: ReflectionRecord, frameworks: Frameworks, as_data: Callable[[object], str]
) -> str:
    lines = []
    if record.emotions:
        lines.append("- Feelings: " + as_data("; ".join(record.emotions)))
    for found in record.likely_causes:
        label = frameworks.cause_label(found.cause)
        lines.append(f'- Likely cause, {label}: "{as_data(found.evidence)}"')
    if record.cause_unknown:
        lines.append("- The reason is not known.")
    for field in ("strengths", "goals", "routine", "support"):
        values = getattr(record, field)
        if values:
            lines.append(f"- {field.capitalize()}: " + as_data(" / ".join(values)))
    return "\n".join(lines)
