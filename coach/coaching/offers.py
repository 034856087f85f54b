"""What the guide offers on a turn: one framework item, chosen by what the seeker
said and what the record holds, never one already shown in the session.

Items are named "stage/section/key". What a message makes relevant comes first
(sleep or money brings routine and stress, feedback brings how to read it, a
skill brings resources); then what the confirmed causes call for; then the
stage's own material, starting at a place that depends on the message, so that
different conversations meet different parts of the guide. Never a later stage's
item (`within_reach`).
"""

from __future__ import annotations

import zlib

from coach.coaching.dialogue_state import DialogueState
from coach.coaching.reading import Reading
from coach.guide.frameworks import STAGES, Frameworks, Item
from coach.guide.move import Move
from coach.guide.record import ReflectionRecord

# The feeling to which looking ahead reads as a silver lining, not as help.
NO_SILVER_LINING = "hopelessness"
# Resilience's material is the widest: two items on a turn that asks a question.
# Asked for tips, a turn gives this many.
TIPS_ASKED_FOR = 2
RESILIENCE_OFFERS = 2

# The sections each stage draws on when nothing more specific fits.
STAGE_POOLS: dict[str, tuple[str, ...]] = {
    "emotions": ("emotions/processing", "emotions/refocusing"),
    "causes": ("causes/self_review", "causes/reading_feedback"),
    "improvement": ("improvement/resources", "improvement/tailoring"),
    "resilience": (
        "resilience/methods",
        "resilience/motivation",
        "resilience/proactive_vs_reactive",
        "resilience/routine",
        "resilience/learning_steps",
        "resilience/mentors",
    ),
    "plan": (),
}
# What a confirmed cause makes worth offering.
CAUSE_POOLS: dict[str, tuple[str, ...]] = {
    "skills_gap": ("improvement/resources", "resilience/learning_steps"),
    "culture_fit": ("improvement/tailoring/company_research", "causes/reading_feedback"),
    "preparation": ("improvement/tailoring", "resilience/learning_steps/rehearse"),
    "qualification_mismatch": ("improvement/tailoring", "resilience/mentors"),
    "competition": ("improvement/tailoring", "emotions/refocusing"),
    "unknown": ("causes/self_review", "causes/reading_feedback/vague_feedback"),
}


def within_reach(ref: str, stage: str) -> bool:
    """Whether an item belongs to this stage or one before it. What to do about a
    cause (improvement) waits until the seeker has chosen to go there: advice only
    once they want it."""
    return STAGES.index(ref.split("/")[0]) <= STAGES.index(stage)


def resolve(frameworks: Frameworks, ref: str) -> Item:
    stage, section, key = ref.split("/")
    return frameworks.stage(stage).section(section).item(key)


def expand(frameworks: Frameworks, ref: str) -> list[str]:
    """A ref to one item as itself; a ref to a section as each of its items."""
    parts = ref.split("/")
    if len(parts) == 3:
        return [ref]
    stage, section = parts
    return [f"{ref}/{item.key}" for item in frameworks.stage(stage).section(section).items]


def _rotated(refs: list[str], seed: str) -> list[str]:
    if not refs:
        return refs
    start = zlib.crc32(seed.encode("utf-8")) % len(refs)
    return refs[start:] + refs[:start]


def choose_offers(
    frameworks: Frameworks,
    stage: str,
    *,
    relevant: tuple[str, ...],
    record: ReflectionRecord,
    shown: list[str],
    seed: str,
    count: int = 1,
    listed: frozenset[str] = frozenset(),
) -> list[str]:
    """Up to `count` items for this turn, none shown before in the session and none
    named elsewhere in the reply (`listed`, lowercase names)."""
    if count < 1:
        return []
    ordered: list[str] = []
    for ref in relevant:
        ordered += _rotated(expand(frameworks, ref), seed)
    for found in reversed(record.likely_causes):
        for ref in CAUSE_POOLS.get(found.cause, ()):
            ordered += expand(frameworks, ref) if within_reach(ref, stage) else []
    if record.cause_unknown:
        for ref in CAUSE_POOLS["unknown"]:
            ordered += expand(frameworks, ref) if within_reach(ref, stage) else []
    pools = STAGE_POOLS.get(stage, ())
    if stage == "emotions" and (not record.emotions or NO_SILVER_LINING in record.emotions):
        # The feelings first: looking ahead (new goals, the network) once one is named,
        # and never to someone without hope, to whom it reads as a silver lining.
        pools = pools[:1]
    pool = [item for ref in pools for item in expand(frameworks, ref)]
    ordered += _rotated(pool, seed)
    chosen: list[str] = []
    names = {resolve(frameworks, ref).name.lower() for ref in shown} | listed
    for ref in ordered:
        name = resolve(frameworks, ref).name.lower()
        if ref in shown or ref in chosen or name in names:
            continue
        chosen.append(ref)
        names.add(name)
        if len(chosen) == count:
            break
    return chosen


def offer_count(move: Move, *, waited: bool = False) -> int:
    """How many items this turn offers: one; none while checking what was heard (that
    turn asks one thing: what the message made relevant waits for the next,
    `DialogueState.deferred`); two in resilience when the coach asks a question. What
    `waited` for the check comes on top. (The first reply to the news, and a seeker
    who asked for no tips, get none: the dialogue sees to those.)"""
    if move.ask == "confirm":
        return 0
    own = RESILIENCE_OFFERS if move.stage == "resilience" and move.ask == "question" else 1
    own = max(own, TIPS_ASKED_FOR) if move.wants_tips else own
    return own + 1 if waited else own


def listed_strategies(
    move: Move, record: ReflectionRecord, frameworks: Frameworks
) -> frozenset[str]:
    """The strategies entering improvement lists by name: not offered again beside them."""
    if move.left_stage is None or move.stage != "improvement":
        return frozenset()
    return frozenset(s.name.lower() for s in frameworks.strategies_for(record.cause_worked_on))


def relevant_now(
    move: Move, state: DialogueState, reading: Reading, *, news: bool
) -> tuple[tuple[str, ...], bool]:
    """The items this turn's offer starts from: what a message the last check held back
    made relevant, then what this one did (when it told something, or a stage began);
    and whether any was held back for it. A turn that checks what it heard holds them
    back in turn, and offers none."""
    stage = move.stage
    deferred = tuple(ref for ref in state.deferred if within_reach(ref, stage))
    raised = reading.relevant if news or move.left_stage else ()
    relevant = (*deferred, *(ref for ref in raised if within_reach(ref, stage)))
    if move.ask == "confirm":
        state.deferred = list(relevant)
        return (), False
    state.deferred = []
    return relevant, bool(deferred)


def offer_for_turn(
    move: Move,
    state: DialogueState,
    record: ReflectionRecord,
    relevant: tuple[str, ...],
    text: str,
    frameworks: Frameworks,
    *,
    waited: bool,
    first_reply: bool,
) -> None:
    """The guide's items the turn offers (`Move.offer`), noted as shown: none on the
    first reply to the news, nor to someone who asked for no tips."""
    if not (move.kind in ("reflect", "plan", "recruiter") or move.left_stage):
        return
    if move.kind == "recruiter":
        relevant = ("causes/reading_feedback/ask_clarification",)
    move.offer = choose_offers(
        frameworks,
        move.stage,
        relevant=relevant,
        record=record,
        shown=[*state.shown, *state.done],
        seed=_seed(text, record),
        listed=listed_strategies(move, record, frameworks),
        count=0 if state.quiet or first_reply else offer_count(move, waited=waited),
    )
    state.shown = state.shown + move.offer


def _seed(text: str, record: ReflectionRecord) -> str:
    """What picks among equally fitting items: this message and what the record holds,
    so that "Move on" in two conversations does not meet the same part of the guide."""
    return text + "|" + record.model_dump_json()
