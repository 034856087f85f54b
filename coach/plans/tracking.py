"""A plan after it is made: fetching the seeker's own plans (anyone else's is a 404,
like one that does not exist), ticking steps off, editing goals and steps, adding
and removing steps, the journal, the session's mood check-ins, and the plan as
the API and the pages show it, with its progress.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from coach.coaching.sessions import get_owned_session
from coach.errors import InvalidInput, NotFound
from coach.plans import schema
from coach.storage.models import (
    CoachingSession,
    JournalEntry,
    MoodCheckin,
    Plan,
    PlanGoal,
    PlanStep,
    User,
)


def get_owned_plan(db: Session, user: User, plan_id: int) -> Plan:
    plan = db.get(Plan, plan_id)
    if plan is None or db.get_one(CoachingSession, plan.coaching_session_id).owner_id != user.id:
        raise NotFound("No such plan.")
    return plan


def session_plan(db: Session, user: User, session_id: int, version: int | None = None) -> Plan:
    """The session's latest plan, or the given version of it."""
    coaching_session = get_owned_session(db, user, session_id)
    query = Plan.of_session(coaching_session.id)
    if version is not None:
        query = query.where(Plan.version == version)
    plan = db.scalars(query.limit(1)).first()
    if plan is None:
        raise NotFound(
            "This session has no plan yet." if version is None else f"No plan version {version}."
        )
    return plan


def session_plans(db: Session, user: User, session_id: int) -> list[Plan]:
    """Every version of the session's plan, newest first."""
    return list(db.scalars(Plan.of_session(get_owned_session(db, user, session_id).id)))


def latest_plans(db: Session, session_ids: list[int]) -> dict[int, Plan]:
    """The latest plan of each of these sessions that has one (for the home page)."""
    if not session_ids:
        return {}
    newest = (
        select(Plan.coaching_session_id, func.max(Plan.version).label("version"))
        .where(Plan.coaching_session_id.in_(session_ids))
        .group_by(Plan.coaching_session_id)
        .subquery()
    )
    plans = db.scalars(
        select(Plan).join(
            newest,
            (Plan.coaching_session_id == newest.c.coaching_session_id)
            & (Plan.version == newest.c.version),
        )
    )
    return {plan.coaching_session_id: plan for plan in plans}


def _goal_of(db: Session, plan: Plan, goal_id: int) -> PlanGoal:
    for goal in plan.goals:
        if goal.id == goal_id:
            return goal
    _refuse_a_part_of_another_plan(db, plan, select(PlanGoal.plan_id).where(PlanGoal.id == goal_id))
    raise NotFound("No such goal in this plan.")


def _step_of(db: Session, plan: Plan, step_id: int) -> PlanStep:
    for goal in plan.goals:
        for step in goal.steps:
            if step.id == step_id:
                return step
    owning_plan = select(PlanGoal.plan_id).join(PlanStep).where(PlanStep.id == step_id)
    _refuse_a_part_of_another_plan(db, plan, owning_plan)
    raise NotFound("No such step in this plan.")


def _refuse_a_part_of_another_plan(db: Session, plan: Plan, owning_plan: Select[Any]) -> None:
    """A goal or step of the seeker's own other plan (an earlier version, say) is bad
    input, said plainly; one of anybody else's stays a 404, like one that does not
    exist, so that nobody learns which ids are taken."""
    owner_id = db.get_one(CoachingSession, plan.coaching_session_id).owner_id
    other = db.scalar(
        select(Plan)
        .join(CoachingSession)
        .where(Plan.id.in_(owning_plan.scalar_subquery()), CoachingSession.owner_id == owner_id)
    )
    if other is not None:
        raise InvalidInput(
            f"That belongs to another of your plans (version {other.version} of conversation"
            f" {other.coaching_session_id}), not to plan {plan.id}.",
            code="not_in_this_plan",
        )


def update_step(db: Session, plan: Plan, step_id: int, changes: dict[str, Any]) -> PlanStep:
    """Tick a step off (or on again), or change its title or due date."""
    step = _step_of(db, plan, step_id)
    if not changes:
        raise InvalidInput("Send at least one of: done, title, due.")
    if "title" in changes:
        step.title = changes["title"]
    if "due" in changes:
        step.due = changes["due"]
    if "done" in changes and changes["done"] != step.done:
        step.done = changes["done"]
        step.done_at = datetime.now(UTC) if step.done else None
    db.commit()
    return step


def add_step(db: Session, plan: Plan, goal_id: int, title: str, due: date | None) -> PlanStep:
    goal = _goal_of(db, plan, goal_id)
    position = max((s.position for s in goal.steps), default=-1) + 1
    step = PlanStep(position=position, title=title, due=due, done=False)
    goal.steps.append(step)
    db.commit()
    return step


def delete_step(db: Session, plan: Plan, step_id: int) -> None:
    step = _step_of(db, plan, step_id)
    step.goal.steps.remove(step)
    db.commit()


def update_goal(db: Session, plan: Plan, goal_id: int, title: str) -> PlanGoal:
    goal = _goal_of(db, plan, goal_id)
    goal.title = title
    db.commit()
    return goal


def add_journal_entry(db: Session, plan: Plan, kind: str, body: str) -> JournalEntry:
    entry = JournalEntry(kind=kind, body=body)
    plan.journal.append(entry)
    db.commit()
    return entry


def add_checkin(
    db: Session, user: User, session_id: int, moment: str, score: int
) -> schema.Checkin:
    coaching_session = get_owned_session(db, user, session_id)
    checkin = MoodCheckin(coaching_session_id=coaching_session.id, moment=moment, score=score)
    db.add(checkin)
    db.commit()
    return describe_checkin(checkin)


def session_checkins(db: Session, session_id: int) -> list[schema.Checkin]:
    return [describe_checkin(c) for c in db.scalars(MoodCheckin.in_session(session_id))]


def describe_checkin(checkin: MoodCheckin) -> schema.Checkin:
    return schema.Checkin(
        id=checkin.id,
        session_id=checkin.coaching_session_id,
        moment=checkin.moment,
        score=checkin.score,
        created_at=checkin.created_at,
    )


def progress(plan: Plan) -> schema.Progress:
    steps = [step for goal in plan.goals for step in goal.steps]
    open_steps = sorted(
        (s for s in steps if not s.done),
        key=lambda s: (s.due is None, s.due or date.max, s.goal.position, s.position),
    )
    following = open_steps[0] if open_steps else None
    return schema.Progress(
        done=sum(1 for s in steps if s.done),
        total=len(steps),
        next_step=None
        if following is None
        else schema.NextStep(id=following.id, title=following.title, due=following.due),
    )


def describe_plan(plan: Plan, disclaimer: str) -> schema.Plan:
    """The plan as the API and the pages show it."""
    return schema.Plan(
        id=plan.id,
        session_id=plan.coaching_session_id,
        version=plan.version,
        created_at=plan.created_at,
        headline=plan.headline,
        horizon_weeks=plan.horizon_weeks,
        insights=schema.Insights.model_validate(plan.insights),
        goals=[
            schema.Goal(
                id=goal.id,
                title=goal.title,
                why=goal.why,
                category=goal.category,
                steps=[
                    schema.Step(id=s.id, title=s.title, due=s.due, done=s.done, done_at=s.done_at)
                    for s in goal.steps
                ],
                resources=[
                    schema.Resource(kind=r.kind, name=r.name, url=r.url) for r in goal.resources
                ],
            )
            for goal in plan.goals
        ],
        routine=list(plan.routine),
        support=list(plan.support),
        review_on=plan.review_on,
        disclaimer=disclaimer,
        model=plan.model,
        progress=progress(plan),
        journal=[
            schema.JournalEntry(id=e.id, kind=e.kind, body=e.body, created_at=e.created_at)
            for e in plan.journal
        ],
    )


def describe_version(plan: Plan) -> schema.PlanVersion:
    return schema.PlanVersion(
        id=plan.id,
        version=plan.version,
        created_at=plan.created_at,
        horizon_weeks=plan.horizon_weeks,
        model=plan.model,
        progress=progress(plan),
    )


def export_plans(db: Session, user: User, disclaimer: str) -> dict[str, Any]:
    """Every plan version and check-in of the user's sessions, for their data export."""
    session_ids = select(CoachingSession.id).where(CoachingSession.owner_id == user.id)
    plans = db.scalars(
        select(Plan)
        .where(Plan.coaching_session_id.in_(session_ids))
        .order_by(Plan.coaching_session_id, Plan.version)
    )
    checkins = db.scalars(
        select(MoodCheckin)
        .where(MoodCheckin.coaching_session_id.in_(session_ids))
        .order_by(MoodCheckin.id)
    )
    return {
        "plans": [describe_plan(p, disclaimer) for p in plans],
        "checkins": [describe_checkin(c) for c in checkins],
    }
