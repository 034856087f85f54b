"""A plan built from the templates, with no model: goals from the cause-to-strategy
map, in the seeker's own words wherever the record has them.

The goals the seeker stated come first, in their own words: each takes the steps
and resources of the strategy its words are clearly about, or plain steps of its
own when none is (another strategy's steps would not fit it). Then each likely
cause in the record (or "unknown" when none is named) that no goal answers yet
gets its most fitting strategy not yet used; room is kept for those, since a plan
answers every cause. Steps are dated from this week to the end of the horizon. A
plan with fewer than two goals gets a wellbeing goal.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from coach.guide.frameworks import Frameworks, Strategy
from coach.guide.record import CHOSEN_EVIDENCE, ReflectionRecord
from coach.plans.schema import GoalDraft, PlanDraft, PlanRules, StepDraft
from coach.plans.templates import PlanTemplates

MAX_GUIDED_GOALS = 4
MAX_GUIDED_STEPS = 4
MIN_GOALS = 2
WELLBEING_STRATEGY = "self_care_routine"
# Words too common to say which strategy a sentence is about.
COMMON_WORDS = frozenset(
    {
        *("want", "will", "would", "like", "need", "should", "going", "plan", "goal"),
        *("more", "better", "really", "about", "with", "your", "this", "that", "them"),
        *("they", "from", "into", "have", "been", "some", "just", "also", "very"),
    }
)


def record_causes(record: ReflectionRecord) -> list[str]:
    """The record's causes, first named first; "unknown" when it names none."""
    causes: list[str] = list(dict.fromkeys(c.cause for c in record.likely_causes))
    return causes or ["unknown"]


def build_guided_draft(
    record: ReflectionRecord,
    loaded: Frameworks,
    templates: PlanTemplates,
    rules: PlanRules,
    horizon_weeks: int,
    *,
    done: frozenset[str] = frozenset(),
) -> PlanDraft:
    """A plan from the record and the templates; no strategy in `done` (the seeker
    has done it already)."""
    catalogue = loaded.catalogue
    causes = record_causes(record)
    # A sentence that is also the seeker's routine ("Every morning I will walk")
    # belongs to the week, not to the goals; one that is also support stays a goal
    # ("practise interviews with a friend"): the goal is what they chose.
    elsewhere = {s.lower() for s in record.routine}
    own_goals = [g for g in record.goals if g.lower() not in elsewhere]
    used: set[str] = set()
    goals: list[GoalDraft] = []

    def uncovered() -> list[str]:
        chosen = {goal.category for goal in goals}
        return [c for c in causes if not chosen & _categories(loaded, c)]

    # The goals the seeker stated come first, in their words: they chose them. Each
    # takes the steps of the strategy it is clearly about, or plain steps of its own.
    for words in own_goals:
        key = _closest_strategy(words, loaded, exclude=used)
        strategy = catalogue.strategies[key] if key else None
        # No strategy clearly about it (a word or two in common is chance): the
        # category its own words plainly name ("learn SQL": skills), else mindset.
        category = strategy.category if strategy else templates.own_goal.category_of(words)
        # Room stays for each cause no goal answers yet (a plan answers every cause).
        answers = [c for c in uncovered() if category in _categories(loaded, c)]
        if len(goals) + len(uncovered()) - len(answers[:1]) >= MAX_GUIDED_GOALS:
            continue
        why = templates.why.own_goal.format(words=words)
        title = _in_own_words(words, templates)
        if key is None or strategy is None:
            goals.append(_own_goal(title, why, category, len(goals), rules, templates))
        else:
            used.add(key)
            goals.append(_goal(key, strategy, title, why, len(goals), rules, templates))

    # Then, for each cause no goal answers yet, its most fitting strategy.
    for cause in causes:
        if len(goals) >= MAX_GUIDED_GOALS or cause not in uncovered():
            continue
        # Nor what the seeker has done already (their feedback in hand, say).
        unwanted = used | done | record.strategies_in_hand()
        key = next((k for k in catalogue.causes[cause].strategies if k not in unwanted), None)
        if key is None:
            continue
        used.add(key)
        strategy = catalogue.strategies[key]
        why = _reason(record, cause, loaded, templates)
        goals.append(_goal(key, strategy, strategy.name, why, len(goals), rules, templates))

    if len(goals) < MIN_GOALS and WELLBEING_STRATEGY not in used:
        strategy = catalogue.strategies[WELLBEING_STRATEGY]
        goals.append(
            _goal(
                WELLBEING_STRATEGY,
                strategy,
                strategy.name,
                templates.why.wellbeing,
                len(goals),
                rules,
                templates,
            )
        )

    named = [c for c in causes if c != "unknown"]
    headline = (
        templates.headline.with_cause.format(
            horizon_weeks=horizon_weeks, cause=loaded.cause_label(named[0]).lower()
        )
        if named
        else templates.headline.without_cause.format(horizon_weeks=horizon_weeks)
    )
    routine = [*record.routine[:3], *_routine_parts(record, goals, templates)]
    support = list(record.support) or [templates.support.suggestion]
    support.append(templates.support.review.format(review_on=rules.review_on.isoformat()))
    return PlanDraft(
        headline=headline,
        goals=goals,
        routine=routine[:8],
        support=support[:8],
    )


def _routine_parts(
    record: ReflectionRecord, goals: list[GoalDraft], templates: PlanTemplates
) -> list[str]:
    """The parts of a steady week the seeker's own routine does not cover already, and
    that fit the plan's goals."""
    said = " ".join(record.routine[:3]).lower()
    covered = {
        part
        for part, words in templates.routine.covered_by.items()
        if any(re.search(rf"\b{re.escape(word)}\b", said) for word in words)
    }
    categories = {goal.category for goal in goals}
    return [
        item.text
        for item in templates.routine.items
        if item.covers not in covered and (item.needs is None or item.needs in categories)
    ]


def _categories(loaded: Frameworks, cause: str) -> frozenset[str]:
    return frozenset(s.category for s in loaded.strategies_for(cause))


def _own_goal(
    title: str, why: str, category: str, index: int, rules: PlanRules, templates: PlanTemplates
) -> GoalDraft:
    """A goal the seeker stated that no strategy is clearly about: plain steps that
    fit any goal, rather than another goal's steps."""
    titles = list(templates.own_goal.steps)
    dates = step_dates(rules.first_day, rules.review_on, len(titles), index)
    return GoalDraft(
        title=title,
        why=why,
        category=category,
        steps=[StepDraft(title=t, due=d) for t, d in zip(titles, dates, strict=True)],
        resources=[],
    )


def _goal(
    key: str,
    strategy: Strategy,
    title: str,
    why: str,
    index: int,
    rules: PlanRules,
    templates: PlanTemplates,
) -> GoalDraft:
    titles = list(strategy.steps[:MAX_GUIDED_STEPS])
    dates = step_dates(rules.first_day, rules.review_on, len(titles), index)
    return GoalDraft(
        title=title,
        why=why,
        category=strategy.category,
        steps=[StepDraft(title=t, due=d) for t, d in zip(titles, dates, strict=True)],
        resources=list(templates.resources.get(key, ())),
    )


# A goal's steps follow on from each other: a step a week keeps each one small
# and lets the next build on it, where spreading them over the whole plan left a
# step meant to follow at once two weeks behind the one before. A plan too short
# for a week between steps has them closer together.
DAYS_BETWEEN_STEPS = 7


def step_dates(first_day: date, review_on: date, count: int, offset: int = 0) -> list[date]:
    """`count` dates, a week apart where the plan has room (closer where it has not),
    up to the day before the review: the first within the week (a later goal's first
    step a day later each)."""
    start = first_day + timedelta(days=min(offset + 1, 6))
    end = max(start, review_on - timedelta(days=1))
    room = (end - start).days // max(count - 1, 1)
    gap = timedelta(days=max(1, min(DAYS_BETWEEN_STEPS, room)))
    return [min(start + i * gap, end) for i in range(count)]


def _reason(
    record: ReflectionRecord, cause: str, loaded: Frameworks, templates: PlanTemplates
) -> str:
    evidence = next((c.evidence for c in record.likely_causes if c.cause == cause), None)
    if evidence and evidence != CHOSEN_EVIDENCE:  # a label picked is no words to quote
        return templates.why.evidence.format(words=evidence)
    if record.feedback:
        return templates.why.feedback.format(words=record.feedback[0])
    if cause == "unknown":
        return templates.why.no_cause.format(advice=loaded.catalogue.causes[cause].advice)
    return templates.why.cause_only.format(
        cause=loaded.cause_label(cause).lower(), advice=loaded.catalogue.causes[cause].advice
    )


def _in_own_words(sentence: str, templates: PlanTemplates) -> str:
    """The seeker's goal as a title: "I want to learn SQL." becomes "Learn SQL"."""
    text = sentence.strip().rstrip(".!")
    lowered = text.lower()
    for opening in sorted(templates.goal_openings.phrases, key=len, reverse=True):
        if lowered.startswith(opening + " "):
            text = text[len(opening) :].strip()
            break
    return text[:1].upper() + text[1:] if text else sentence


def _stems(text: str) -> set[str]:
    words = re.findall(r"[a-z]+", text.lower())
    return {w[:5] for w in words if len(w) >= 4 and w not in COMMON_WORDS}


def _overlap(sentence: str, strategy: Strategy) -> int:
    return len(_stems(sentence) & _stems(f"{strategy.name} {strategy.how}"))


def _closest_strategy(sentence: str, loaded: Frameworks, exclude: set[str]) -> str | None:
    """The strategy a goal the seeker stated is about, where its words say so clearly
    (two shared words at least; one could be chance)."""
    scored = [
        (_overlap(sentence, s), key)
        for key, s in loaded.catalogue.strategies.items()
        if key not in exclude
    ]
    best = max(scored, default=None, key=lambda pair: pair[0])
    return best[1] if best and best[0] >= 2 else None
