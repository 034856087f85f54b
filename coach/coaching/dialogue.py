"""The dialogue: what the coach does on a turn, decided from stored state only.

The session keeps what the coach's last turn proposed and asked (`pending`, a
`DialogueState`). A turn reads the seeker's message against it:

- an answer: "Yes, that's right" moves the proposed entries into the record,
  "Not quite" drops them and asks what fits better, a partial answer keeps what
  the seeker named, "Move on" (after the coach asked) leaves the stage
  (`coach.coaching.answers`); what the seeker takes back leaves the record;
- a request, honoured at once: the plan (the plan stage, and the plan itself
  written on this turn: `Move.writes_plan`), a reply to the recruiter, a break
  (the stage stays), no more tips for now;
- anything else is news: the keyword rules' guesses become proposals to check,
  feedback from the employer is recorded as the seeker's report.

Stages move by readiness and consent: a stage is ready when what was confirmed
during it meets its exit criterion (`coach.coaching.stages`); the coach then
summarises and asks, and moves only when the seeker agrees or asks for a stage.
What the turn offers from the guide is chosen by `coach.coaching.offers`, and
how it meets the seeker besides its question by `coach.coaching.tone`. The
`Move` it returns is stored with the state, so the reply (guided words or a
model's instructions) and its quick replies come from the same decision.
"""

from __future__ import annotations

from coach.coaching.answers import read_answer
from coach.coaching.dialogue_state import DialogueState, load_state
from coach.coaching.keyword_rules import KeywordRules
from coach.coaching.offers import offer_for_turn, relevant_now
from coach.coaching.proposals import (
    cause_labels,
    feeling_names,
    named_entries,
    rank_by_feedback,
    taken_back,
    without,
    without_entries,
)
from coach.coaching.reading import SHORT_ANSWER_WORDS, DialogueRules, Reading
from coach.coaching.stages import next_open_question, requested_stage, stage_is_complete
from coach.coaching.tone import set_tone
from coach.guide.frameworks import STAGES, Frameworks, next_stage
from coach.guide.move import (
    MAKE_PLAN,
    MOVE_ON,
    NOT_QUITE,
    STAY_HERE,
    TAKE_BREAK,
    YES,
    Move,
)
from coach.guide.record import ReflectionRecord
from coach.storage.models import CoachingSession

# After this many turns in a stage the coach summarises and asks whether to move
# on, so that nobody is held in one stage by wording the rules do not recognise;
# it asks, it does not move.
MAX_TURNS_PER_STAGE = 6
# After "Stay here", the coach waits this many turns before asking again.
STAY_TURNS = 2
# A stage is never offered to be left on its first turn: the seeker is heard first.
MIN_TURNS_BEFORE_ASKING = 2
MAX_CHOICES = 6


def found_in_stage(record: ReflectionRecord, baseline: ReflectionRecord) -> ReflectionRecord:
    return without(record, baseline)


def decide_turn(
    coaching_session: CoachingSession,
    text: str,
    frameworks: Frameworks,
    rules: KeywordRules,
    dialogue_rules: DialogueRules,
    *,
    uses_model: bool = False,
    message_id: int | None = None,
) -> Move:
    """Read the message against the pending question, update the session's record,
    stage and pending state, and say what the coach does on this turn."""
    state = load_state(coaching_session)
    state.message_id = message_id
    record = ReflectionRecord.model_validate(coaching_session.reflection)
    reading = dialogue_rules.read(text)
    stage = coaching_session.stage
    last = state.move or Move(stage=stage)
    move = Move(stage=stage, affirm=[key for key in reading.affirm if key not in state.affirmed])

    if reading.language and not uses_model:
        # Guided mode speaks English: nothing of this message goes into the record.
        move = Move(stage=stage, kind="language", language=reading.language)
        return _finish(coaching_session, state, record, move, stage)

    state.answered = sorted({*state.answered, *reading.answered})
    state.done = sorted({*state.done, *reading.done})
    state.done_strategies = sorted({*state.done_strategies, *reading.done_strategies})

    # What the seeker's answer does to what the coach proposed last.
    chosen = named_entries(text, frameworks)
    answered = read_answer(last, reading, chosen, text, frameworks)
    move.answer, confirmed = answered
    if last.ask == "move_on" and move.answer == "none":
        # They went on talking: that is "stay here" for now, not a question to repeat.
        state.stayed_at = coaching_session.stage_turns + 1
        if reading.only_unsure:
            # Not sure whether to move on: then not yet, and said so.
            move.answer = "stayed"
    record = record.merge(confirmed)
    move.confirmed = confirmed
    # The record is the seeker's: what they say is not so comes out of it at once,
    # and a plain "no" right after the check-in takes back what its message kept.
    move.removed = taken_back(text, record, frameworks)
    if reading.answers == {"deny"} and len(reading.words) <= SHORT_ANSWER_WORDS:
        move.removed = move.removed.merge(state.kept_at_check_in)
    state.kept_at_check_in = ReflectionRecord()
    if not move.removed.is_empty():
        record = without_entries(record, move.removed)
        if move.answer in ("denied", "stayed"):
            move.answer = "none"  # the "no" was the correction, not an answer

    # A request, or the stage the seeker asks for in so many words.
    # A question about the next step ("why?" before the causes) asks for it once this
    # stage has what it needs; asked earlier, the coach says when it comes (`_ask`).
    ahead = _asked_ahead(stage, reading)
    ready = stage_is_complete(stage, found_in_stage(record, state.baseline))
    asked_for = requested_stage(text, frameworks) or (
        ahead if ahead == next_stage(stage) and ready else None
    )
    if reading.request == "plan":
        asked_for = "plan"
    consent = move.answer == "moved" or ("move_on" in reading.answers and stage != "plan")
    target = asked_for or (next_stage(stage) if consent else stage)
    if consent and move.answer == "none":
        move.answer = "moved"  # "let's move on" at any time is consent

    # "No, it's more embarrassment": the answer, and news beside it.
    says_more = move.answer in ("denied", "stayed") and len(reading.words) > SHORT_ANSWER_WORDS
    news = (move.answer in ("none", "partial") or says_more) and not reading.addressed
    if reading.request == "listen":
        move.listening, state.quiet = True, True
    elif reading.asks_ahead == "what":
        state.quiet = False  # they ask what to do: advice is wanted again
    if reading.request in ("recruiter", "break"):
        move.kind = reading.request  # type: ignore[assignment]
        news = False
    if news:
        record, move = _take_news(text, record, move, chosen, rules, frameworks)
        if stage == "causes" and reading.only_unsure and last.ask != "confirm":
            # Asked what played a part, "no idea" is the answer: the reason has not
            # been made clear yet. Offering causes to pick from would ask for a guess.
            move.proposed = without(ReflectionRecord(cause_unknown=True), record)

    if target != stage:
        # After "Move on" the last reply summarised the stage already: not again.
        move.left_stage, move.stage = stage, target
        move.summarise = last.ask != "move_on"
        if target == "improvement":
            state.quiet = False  # what to do about it is what they chose to go to
        move.proposed = ReflectionRecord()  # a new stage starts with a clean slate
        state.baseline, state.questions, state.stayed_at = record, 0, None
        coaching_session.stage_turns = 0
        stage = target
    if stage == "plan" and move.kind == "reflect" and (move.left_stage or asked_for):
        move.kind = "plan"
    # Asked for in so many words, the plan is written at once; arriving in the plan
    # stage by "Move on" gets the recap and the "Make my plan" choice first.
    move.writes_plan = move.kind == "plan" and reading.request == "plan"

    # What the seeker has done, or the record shows done, is not suggested to them.
    move.skipped_strategies = sorted({*state.done_strategies, *record.strategies_in_hand()})
    _ask(move, state, record, reading, coaching_session.stage_turns + 1, frameworks)
    first_reply = set_tone(move, state, reading, text, last, frameworks)
    # "Any tips for getting better at visual design?" where what to do is the step.
    move.wants_tips = (
        (reading.asks_ahead == "what" and STAGES.index(stage) >= STAGES.index("improvement"))
        and move.kind == "reflect"
        and move.ask == "question"
    )
    relevant, waited = relevant_now(move, state, reading, news=news)
    if not uses_model and move.kind == "reflect" and not relevant and _unanswered(move, reading):
        move.kind = "open_question"
    offer_for_turn(
        move, state, record, relevant, text, frameworks, waited=waited, first_reply=first_reply
    )
    state.affirmed = [*state.affirmed, *move.affirm[:1]]  # the one a reply says
    return _finish(coaching_session, state, record, move, stage)


def _unanswered(move: Move, reading: Reading) -> bool:
    """A question the rules found nothing in, and the guide nothing to offer for
    ("what's the best laptop for coding?"): without a model, saying so beats
    acknowledging it as if it were news."""
    asked = reading.text.rstrip().endswith("?") and not (move.reassure or move.listening)
    # "Can we go back to my feelings?" was answered; "any tips?" gets some.
    asked = asked and not move.left_stage and not move.wants_tips
    heard = not (move.proposed.is_empty() and move.confirmed.is_empty()) or move.feedback_noted
    return asked and not heard and move.answer == "none" and move.ask == "question"


def _take_news(
    text: str,
    record: ReflectionRecord,
    move: Move,
    chosen: ReflectionRecord,
    rules: KeywordRules,
    frameworks: Frameworks,
) -> tuple[ReflectionRecord, Move]:
    """Record what the seeker states (feedback, labels they name); propose the rest."""
    found = rules.read(text)
    if found.feedback:
        record = record.merge(ReflectionRecord(feedback=found.feedback))
        move.feedback_noted = True
    found = rank_by_feedback(found, record.feedback)
    if not chosen.is_empty():
        record = record.merge(chosen)
        move.confirmed = move.confirmed.merge(chosen)
        move.answer = "chose" if move.answer == "none" else move.answer
    proposed = without(found.model_copy(update={"feedback": [], "emotions": []}), record)
    proposed.emotions = _feelings_to_propose(found.emotions, record, frameworks, rules)
    if record.feedback and proposed.likely_causes:
        # The employer's words outrank a cause guessed from elsewhere in the message.
        proposed = rank_by_feedback(proposed, record.feedback)
    if proposed.likely_causes:
        # One reading of why, not two that contradict each other ("strong
        # competition" and "the reason has not been made clear").
        proposed.cause_unknown = False
        # Each cause once, with the first sentence that pointed to it.
        first = {c.cause: c for c in reversed(proposed.likely_causes)}
        proposed.likely_causes = [c for c in proposed.likely_causes if first[c.cause] is c]
    # What the seeker took back in this very message is not proposed again.
    move.proposed = without_entries(proposed, move.removed)
    return record, move


def _feelings_to_propose(
    emotions: list[str], record: ReflectionRecord, frameworks: Frameworks, rules: KeywordRules
) -> list[str]:
    """The common reactions heard, and a feeling the seeker named in a word of their
    own ("numb", or a known feeling such as "burnt out") when no common reaction was
    heard: a phrase is not reflected back."""
    known = {e.lower() for e in record.emotions}
    reactions = {name.lower() for name in feeling_names(frameworks)}
    heard = [e for e in emotions if e.lower() in reactions and e.lower() not in known]
    known_words = rules.feelings.state_words
    own = [
        e
        for e in emotions
        if e.lower() not in reactions and (" " not in e.strip() or e.lower() in known_words)
    ]
    return heard or [e for e in own[:1] if e.lower() not in known]


def _ask(
    move: Move,
    state: DialogueState,
    record: ReflectionRecord,
    reading: Reading,
    stage_turn: int,
    frameworks: Frameworks,
) -> None:
    """What the coach asks at the end of the turn, with its quick replies."""
    stage = move.stage
    if move.kind in ("recruiter", "break"):
        move.ask = "none"
        move.choices = [] if move.kind == "break" else [TAKE_BREAK]
        return
    if move.kind == "plan":
        # A written plan links to its page; "Make my plan" under it would only repeat it.
        choices = [TAKE_BREAK] if move.writes_plan else [MAKE_PLAN, TAKE_BREAK]
        move.ask, move.choices = "question", choices
        return
    if move.left_stage:
        move.ask = "question"
        move.choices = _stage_choices(move, record, frameworks) if stage == "improvement" else []
        return
    if not move.proposed.is_empty():
        move.ask, move.choices = "confirm", [YES, NOT_QUITE]
        return
    if move.answer == "denied":
        move.ask, move.choices = (
            "what_fits",
            _stage_choices(move, record, frameworks),
        )
        return
    if move.answer == "stayed":
        state.stayed_at = stage_turn
    ready = stage_is_complete(stage, found_in_stage(record, state.baseline))
    waited = state.stayed_at is None or stage_turn - state.stayed_at >= STAY_TURNS
    heard = stage_turn >= MIN_TURNS_BEFORE_ASKING
    ahead = _asked_ahead(stage, reading) is not None
    # Someone who asked only to be heard is not asked to move on as soon as the
    # stage has what it needs: only once it has run its length.
    ready = ready and not state.quiet
    if stage != "plan" and waited and heard and (ready or stage_turn >= MAX_TURNS_PER_STAGE):
        move.ask, move.summarise, move.choices = "move_on", True, [MOVE_ON, STAY_HERE]
        if ahead:
            # "What should I do now?" as the step ends: when that comes, then the ask.
            move.kind, move.ahead = "asks_ahead", reading.asks_ahead
        return
    if reading.fragment and move.answer == "none" and not reading.addressed and not ahead:
        move.kind = "fragment"
        move.ask = "what_fits"
        # Counted like a question, so that fragments in a row are not met with the
        # same words each time.
        move.question, state.questions = state.questions, state.questions + 1
        options = _stage_choices(move, record, frameworks)[: MAX_CHOICES - 1]
        move.choices = [*options, TAKE_BREAK]
        return
    if reading.addressed == "greeting" and state.move is not None:
        move.kind = "returning"  # "hi" in the middle of a conversation: back after a pause
    elif reading.addressed:
        move.kind = reading.addressed  # type: ignore[assignment]
    elif ahead:
        move.kind, move.ahead = "asks_ahead", reading.asks_ahead
    framework = frameworks.stage(stage)
    move.ask = "question"
    move.question = next_open_question(framework, state, record)
    state.questions = move.question + 1
    if framework.questions and framework.question(move.question).offers_choices:
        move.choices = _stage_choices(move, record, frameworks)


# A question about what comes later, by the stage that answers it.
ANSWERED_IN: dict[str, str] = {"why": "causes", "what": "improvement"}


def _asked_ahead(stage: str, reading: Reading) -> str | None:
    """The later stage the message's question is about ("why?": the causes, "what
    now?": improvement); None for none, or for this stage or one already passed."""
    wanted = ANSWERED_IN.get(reading.asks_ahead or "")
    return wanted if wanted and STAGES.index(wanted) > STAGES.index(stage) else None


def _stage_choices(move: Move, record: ReflectionRecord, frameworks: Frameworks) -> list[str]:
    """The options the seeker can pick from in the move's stage (no strategy the
    seeker has done already)."""
    stage = move.stage
    if stage == "emotions":
        return feeling_names(frameworks)
    if stage == "causes":
        return list(cause_labels(frameworks).values())[:MAX_CHOICES]
    if stage == "improvement":
        catalogue = frameworks.catalogue
        keys = catalogue.causes[record.cause_worked_on].strategies
        skipped = move.skipped_strategies
        return [catalogue.strategies[k].name for k in keys if k not in skipped] + [MAKE_PLAN]
    if stage == "resilience":
        section = frameworks.stage("resilience").section("routine")
        return [item.name for item in section.items] + [MAKE_PLAN]
    return [MAKE_PLAN]


def _finish(
    coaching_session: CoachingSession,
    state: DialogueState,
    record: ReflectionRecord,
    move: Move,
    stage: str,
) -> Move:
    move.choices = move.choices[:MAX_CHOICES]
    state.move = move
    coaching_session.reflection = record.model_dump(mode="json")
    coaching_session.stage = stage
    coaching_session.stage_turns += 1
    coaching_session.pending = state.model_dump(mode="json")
    return move
