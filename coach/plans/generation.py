"""Generating a session's action plan: a new version each time, from the record the
seeker confirmed, the goals they chose and the conversation.

A provider that gives structured output writes the plan as JSON fitting
`PlanDraft`'s schema, validated with the same rules as a guided plan (dates within
the horizon, categories that follow the cause-to-strategy map) and read by the
output guard like any model reply (no promised outcome, no diagnosis, ...), with
one repair attempt; after that the request fails with a 502 `plan_unavailable` and nothing
stored has changed. Without a model (or when the server refuses JSON schemas) the
plan is built from the templates. The model is asked with no database connection
held; the plan is stored afterwards in one short transaction.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coach.coaching.clock import clock
from coach.coaching.dialogue_state import load_state
from coach.coaching.prompts import DATA_CLOSE, DATA_OPEN, as_data, prompt_book
from coach.coaching.sessions import lock_owned_session
from coach.coaching.transcript import conversation_history
from coach.errors import InvalidInput, ModelUnavailable, NotFound
from coach.guide.frameworks import GOAL_CATEGORIES, RESOURCE_KINDS, frameworks
from coach.guide.record import ReflectionRecord
from coach.plans.guided import build_guided_draft, record_causes
from coach.plans.schema import HORIZONS, PlanDraft, PlanRules, validate_draft
from coach.plans.templates import plan_templates
from coach.providers import provider
from coach.safety.rules import safety_rules
from coach.storage.database import short_transaction
from coach.storage.models import (
    CoachingSession,
    Message,
    Plan,
    PlanGoal,
    PlanResource,
    PlanStep,
)

log = logging.getLogger(__name__)

GUIDED_MODEL = "guided"
PLAN_MAX_TOKENS = 2500
TRANSCRIPT_TURNS = 30


class PlanUnavailable(ModelUnavailable):
    """The model could not write a plan that fits; nothing stored has changed."""

    code = "plan_unavailable"


@dataclass(frozen=True)
class _Inputs:
    record: ReflectionRecord
    summary: str
    turns: list[tuple[str, str]]
    # Strategies the seeker has done already ("I asked for feedback"): not planned.
    done_strategies: frozenset[str] = frozenset()


def plan_rules(app: Flask, record: ReflectionRecord, horizon_weeks: int) -> PlanRules:
    """What a plan made today for this record must keep to."""
    first_day = clock(app).today()
    loaded = frameworks(app)
    return PlanRules(
        first_day=first_day,
        review_on=first_day + timedelta(weeks=horizon_weeks),
        categories_by_cause={
            cause: frozenset(s.category for s in loaded.strategies_for(cause))
            for cause in record_causes(record)
        },
    )


def generate_plan(app: Flask, user_id: int, session_id: int, horizon_weeks: int) -> int:
    """Generate and store the next version of the session's plan; return its id."""
    if horizon_weeks not in HORIZONS:
        raise InvalidInput(f"horizon_weeks must be one of {', '.join(map(str, HORIZONS))}.")
    inputs = _read_inputs(app, user_id, session_id)
    rules = plan_rules(app, inputs.record, horizon_weeks)
    draft, model = _write_draft(app, inputs, rules, horizon_weeks)
    with short_transaction(app) as db:
        # Locked, so that two requests at once cannot both take the same version.
        coaching_session = lock_owned_session(db, user_id, session_id)
        plan = store_draft(db, coaching_session, draft, inputs.record, rules, horizon_weeks, model)
        return plan.id


def _read_inputs(app: Flask, user_id: int, session_id: int) -> _Inputs:
    with short_transaction(app, read_only=True) as db:
        coaching_session = db.get(CoachingSession, session_id)
        if coaching_session is None or coaching_session.owner_id != user_id:
            raise NotFound("No such session.")
        messages = db.scalars(Message.in_session(session_id)).all()
        turns = [(m.role, m.content) for m in conversation_history(messages)]
        return _Inputs(
            record=ReflectionRecord.model_validate(coaching_session.reflection),
            summary=coaching_session.summary,
            turns=turns[-TRANSCRIPT_TURNS:],
            done_strategies=frozenset(load_state(coaching_session).done_strategies),
        )


def _write_draft(
    app: Flask, inputs: _Inputs, rules: PlanRules, horizon_weeks: int
) -> tuple[PlanDraft, str]:
    chosen = provider(app)
    if chosen.structured_output:
        try:
            draft = chosen.complete_structured(
                _instructions(app, rules, horizon_weeks),
                _seeker_data(inputs),
                name="action_plan",
                schema=PlanDraft.model_json_schema(),
                parse=lambda text: _guarded_draft(app, text, rules),
                max_tokens=PLAN_MAX_TOKENS,
            )
        except ModelUnavailable as exc:
            log.warning("plan not written by the model: %s", exc.code)
            raise PlanUnavailable(
                "The AI model could not write a plan just now; nothing was changed. "
                "Try again in a moment.",
                retryable=exc.retryable,
            ) from exc
        if draft is not None:
            return draft, chosen.model_name
    guided = build_guided_draft(
        inputs.record,
        frameworks(app),
        plan_templates(app),
        rules,
        horizon_weeks,
        done=inputs.done_strategies,
    )
    # The templates keep the rules by construction; checking costs nothing and says so.
    return validate_draft(guided.model_dump(mode="json"), rules), GUIDED_MODEL


def _guarded_draft(app: Flask, text: str, rules: PlanRules) -> PlanDraft:
    """A model's answer as a draft that keeps the rules, and that says nothing the
    output guard stops in a chat reply; a ValueError (asking for a repair) if not."""
    draft = validate_draft(json.loads(text), rules)
    guard = safety_rules(app).output_guard
    for said in _written_texts(draft):
        verdict = guard.check(said)
        if not verdict.ok:
            log.warning("a model's plan broke the output rule %s", verdict.rule)
            raise ValueError(
                f"a sentence breaks the coach's rules ({verdict.kind}): {said[:120]!r}."
                " Rewrite it without that"
            )
    return draft


def _written_texts(draft: PlanDraft) -> list[str]:
    texts = [draft.headline, *draft.routine, *draft.support]
    for goal in draft.goals:
        texts += [goal.title, goal.why, *(s.title for s in goal.steps)]
        texts += [r.name for r in goal.resources]
    return texts


def _instructions(app: Flask, rules: PlanRules, horizon_weeks: int) -> str:
    loaded = frameworks(app)
    causes = [
        {"code": cause, "strategies": loaded.strategies_for(cause)}
        for cause in rules.categories_by_cause
    ]
    return prompt_book(app).render(
        "plan.j2",
        first_day=rules.first_day.isoformat(),
        review_on=rules.review_on.isoformat(),
        horizon_weeks=horizon_weeks,
        causes=causes,
        categories=GOAL_CATEGORIES,
        resource_kinds=RESOURCE_KINDS,
    )


def _seeker_data(inputs: _Inputs) -> str:
    """The record and the conversation, as data in the delimited block."""
    record = as_data(json.dumps(inputs.record.model_dump(mode="json"), ensure_ascii=False))
    lines = [f"{role}: {as_data(content)}" for role, content in inputs.turns]
    parts = [DATA_OPEN, "The record the person confirmed:", record]
    if inputs.summary:
        parts += ["Earlier in the conversation (a summary):", as_data(inputs.summary)]
    parts += ["The conversation:", *lines, DATA_CLOSE]
    return "\n".join(parts)


def store_draft(
    db: Session,
    coaching_session: CoachingSession,
    draft: PlanDraft,
    record: ReflectionRecord,
    rules: PlanRules,
    horizon_weeks: int,
    model: str,
) -> Plan:
    """The draft as the session's next plan version."""
    latest = db.scalar(
        select(func.max(Plan.version)).where(Plan.coaching_session_id == coaching_session.id)
    )
    plan = Plan(
        coaching_session_id=coaching_session.id,
        version=(latest or 0) + 1,
        headline=draft.headline,
        horizon_weeks=horizon_weeks,
        insights={
            "emotions": list(record.emotions),
            "likely_causes": [c.model_dump(mode="json") for c in record.likely_causes],
            "strengths": list(record.strengths),
        },
        routine=list(draft.routine),
        support=list(draft.support),
        review_on=rules.review_on,
        model=model,
        goals=[
            PlanGoal(
                position=position,
                title=goal.title,
                why=goal.why,
                category=goal.category,
                steps=[
                    PlanStep(position=i, title=step.title, due=step.due, done=False)
                    for i, step in enumerate(goal.steps)
                ],
                resources=[
                    PlanResource(kind=r.kind, name=r.name, url=r.url) for r in goal.resources
                ],
            )
            for position, goal in enumerate(draft.goals)
        ],
    )
    db.add(plan)
    db.flush()
    return plan
