"""Action plans: generate a session's plan, read it and its versions, tick steps off,
edit goals and steps, keep a journal beside it, export it; and the session's mood
check-ins."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from coach.plans.exports import plan_ics, plan_markdown
from coach.plans.generation import generate_plan
from coach.plans.schema import Checkin, Plan, PlanVersions
from coach.plans.templates import plan_templates
from coach.plans.tracking import (
    add_checkin,
    add_journal_entry,
    add_step,
    delete_step,
    describe_plan,
    describe_version,
    get_owned_plan,
    session_plan,
    session_plans,
    update_goal,
    update_step,
)
from coach.storage.database import get_db
from coach.storage.models import CoachingSession
from coach.storage.models import Plan as StoredPlan
from coach.web.api.requests import parse_body, parse_query
from coach.web.api.sessions import SESSION_ID
from coach.web.auth import require_user
from coach.web.limits import plans_per_seeker
from coach.web.openapi import Download, documented
from coach.web.schemas import (
    ID_CONVERTER,
    CheckinCreate,
    GoalUpdate,
    JournalCreate,
    PlanCreate,
    PlanQuery,
    StepCreate,
    StepUpdate,
)

bp = Blueprint("plans", __name__)
PLAN = f"/plans/<{ID_CONVERTER}:plan_id>"
STEP = f"{PLAN}/steps/<{ID_CONVERTER}:step_id>"
GOAL = f"{PLAN}/goals/<{ID_CONVERTER}:goal_id>"
SESSION = f"/sessions/{SESSION_ID}"
MARKDOWN = Download("text/markdown", "The plan as Markdown: every goal, step and resource.")
ICALENDAR = Download("text/calendar", "One all-day event per dated step (iCalendar).")


def _json(plan: StoredPlan) -> dict[str, Any]:
    return describe_plan(plan, plan_templates().disclaimer).model_dump(mode="json")


@bp.post(f"{SESSION}/plan")
@documented({201: Plan}, body=PlanCreate, errors=(429, 502))
@plans_per_seeker
def create(session_id: int) -> tuple[dict[str, Any], int]:
    """Generate the session's plan (a new version) from the conversation so far."""
    horizon = parse_body(PlanCreate).horizon_weeks
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    plan_id = generate_plan(app, require_user().id, session_id, horizon)
    return _json(get_owned_plan(get_db(), require_user(), plan_id)), 201


@bp.get(f"{SESSION}/plan")
@documented({200: Plan}, query=PlanQuery)
def show(session_id: int) -> dict[str, Any]:
    """The session's latest plan, or an earlier version of it."""
    version = parse_query(PlanQuery).version
    return _json(session_plan(get_db(), require_user(), session_id, version))


@bp.get(f"{SESSION}/plans")
@documented({200: PlanVersions})
def versions(session_id: int) -> dict[str, Any]:
    """Every version of the session's plan, newest first."""
    plans = session_plans(get_db(), require_user(), session_id)
    return PlanVersions(items=[describe_version(p) for p in plans]).model_dump(mode="json")


@bp.get(f"{SESSION}/plan.md")
@documented({200: MARKDOWN}, query=PlanQuery)
def markdown(session_id: int) -> Response:
    """The session's plan as Markdown."""
    plan = session_plan(get_db(), require_user(), session_id, parse_query(PlanQuery).version)
    text = plan_markdown(describe_plan(plan, plan_templates().disclaimer), _title(plan))
    return _download(text, "text/markdown; charset=utf-8", f"plan-{session_id}.md")


@bp.get(f"{SESSION}/plan.ics")
@documented({200: ICALENDAR}, query=PlanQuery)
def calendar(session_id: int) -> Response:
    """The session's plan's dated steps as an iCalendar file."""
    plan = session_plan(get_db(), require_user(), session_id, parse_query(PlanQuery).version)
    shown = describe_plan(plan, plan_templates().disclaimer)
    text = plan_ics(shown, _title(plan), request.host.split(":")[0] or "coach")
    return _download(text, "text/calendar; charset=utf-8", f"plan-{session_id}.ics")


@bp.patch(STEP)
@documented({200: Plan}, body=StepUpdate)
def change_step(plan_id: int, step_id: int) -> dict[str, Any]:
    """Tick a step off (or on again), or change its title or due date."""
    changes = parse_body(StepUpdate).model_dump()
    db = get_db()
    plan = get_owned_plan(db, require_user(), plan_id)
    update_step(db, plan, step_id, changes)
    return _json(plan)


@bp.post(f"{GOAL}/steps")
@documented({201: Plan}, body=StepCreate)
def create_step(plan_id: int, goal_id: int) -> tuple[dict[str, Any], int]:
    """Add a step at the end of a goal."""
    body = parse_body(StepCreate)
    db = get_db()
    plan = get_owned_plan(db, require_user(), plan_id)
    add_step(db, plan, goal_id, body.title, body.due)
    return _json(plan), 201


@bp.delete(STEP)
@documented({200: Plan}, errors=(400,))  # a step of the seeker's other plan
def remove_step(plan_id: int, step_id: int) -> dict[str, Any]:
    """Remove a step from the plan."""
    db = get_db()
    plan = get_owned_plan(db, require_user(), plan_id)
    delete_step(db, plan, step_id)
    return _json(plan)


@bp.patch(GOAL)
@documented({200: Plan}, body=GoalUpdate)
def change_goal(plan_id: int, goal_id: int) -> dict[str, Any]:
    """Change a goal's title."""
    title = parse_body(GoalUpdate).title
    db = get_db()
    plan = get_owned_plan(db, require_user(), plan_id)
    update_goal(db, plan, goal_id, title)
    return _json(plan)


@bp.post(f"{PLAN}/journal")
@documented({201: Plan}, body=JournalCreate)
def create_journal_entry(plan_id: int) -> tuple[dict[str, Any], int]:
    """Add a journal entry: what the seeker learned, or what went well."""
    body = parse_body(JournalCreate)
    db = get_db()
    plan = get_owned_plan(db, require_user(), plan_id)
    add_journal_entry(db, plan, body.kind, body.body)
    return _json(plan), 201


@bp.post(f"{SESSION}/checkins")
@documented({201: Checkin}, body=CheckinCreate)
def create_checkin(session_id: int) -> tuple[dict[str, Any], int]:
    """Record how the seeker feels (1 to 5) at the start or end of a session."""
    body = parse_body(CheckinCreate)
    checkin = add_checkin(get_db(), require_user(), session_id, body.moment, body.score)
    return checkin.model_dump(mode="json"), 201


def _title(plan: StoredPlan) -> str:
    return get_db().get_one(CoachingSession, plan.coaching_session_id).title


def _download(text: str, media_type: str, filename: str) -> Response:
    response = Response(text, content_type=media_type)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
