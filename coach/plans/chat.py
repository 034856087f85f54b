"""A plan asked for in the chat: written, stored, and shown as the coach's reply.

The dialogue (`coach.coaching.dialogue`) decides that a seeker message asks for the
plan itself (`Move.writes_plan`, in words or with the "Make my plan" quick reply);
the reply (`coach.coaching.reply.Reply`) then calls `write_plan_reply` in place of
the provider. Coaching does not import this module: this area imports coaching
(generation reads the session and the prompts through it), so the reverse import
would make a cycle. The web layer, which sees both, hands `write_plan_reply` to the
turn it starts (`coach.web.api.replies`).

Generation is the same as `POST /sessions/<id>/plan` (`generate_plan`): templates
and the cause-to-strategy map in guided mode, structured output with one repair
with a model; a plan the model cannot write raises `PlanUnavailable`, and the
reply is stored as failed with a retry offered. The reply names each goal with its
first dated step, the review date and the disclaimer, and links to the plan page.
"""

from __future__ import annotations

import re
from datetime import date

from flask import Flask

from coach.coaching.reply import WrittenPlan
from coach.plans.generation import generate_plan
from coach.plans.schema import DEFAULT_HORIZON
from coach.plans.schema import Plan as ShownPlan
from coach.plans.templates import ChatWording, plan_templates
from coach.plans.tracking import describe_plan
from coach.storage.database import short_transaction
from coach.storage.message_html import PLAN_PAGE
from coach.storage.models import CoachingSession, Message, Plan

# Characters that would make Markdown of a plan's text (a model wrote it: a link,
# emphasis, code); escaped, so that the text shows as written.
MARKDOWN_SIGNS = re.compile(r"([\\`*_\[\]<>!~|])")


def plan_page(session_id: int, version: int) -> str:
    return PLAN_PAGE.format(session_id=session_id, version=version)


def write_plan_reply(app: Flask, session_id: int, message_id: int) -> WrittenPlan:
    """Write and store the plan the message asks for; the chat reply that shows it."""
    with short_transaction(app, read_only=True) as db:
        owner_id = db.get_one(CoachingSession, session_id).owner_id
        asked = db.get_one(Message, message_id).content
    wording = plan_templates(app).chat
    plan_id = generate_plan(app, owner_id, session_id, chosen_horizon(asked, wording))
    with short_transaction(app, read_only=True) as db:
        plan = db.get_one(Plan, plan_id)
        shown = describe_plan(plan, plan_templates(app).disclaimer)
    return WrittenPlan(text=plan_summary(shown, wording), model=shown.model)


def chosen_horizon(text: str, wording: ChatWording) -> int:
    """The weeks the seeker named ("a plan for the next month": 4), else the default;
    when they named more than one, the last one said."""
    lowered = " ".join(text.lower().split())
    named = [
        (match.start(), weeks)
        for weeks, phrases in wording.horizons.items()
        for phrase in phrases
        for match in re.finditer(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", lowered)
    ]
    return max(named)[1] if named else DEFAULT_HORIZON


def plan_summary(plan: ShownPlan, wording: ChatWording) -> str:
    """The plan as the chat shows it (Markdown): goals with their first steps, the
    review date, the disclaimer and the link to the whole plan."""
    lines = []
    for goal in plan.goals:
        first = next((step for step in goal.steps if not step.done), None)
        if first is None:
            continue
        words = {"title": as_text(goal.title), "step": as_text(_lower_first(first.title))}
        if first.due is None:
            lines.append("- " + wording.goal_undated.format(**words))
        else:
            lines.append("- " + wording.goal_dated.format(**words, due=_day(first.due)))
    parts = [
        wording.opening.format(horizon_weeks=plan.horizon_weeks),
        "\n".join(lines),
        wording.review.format(review_on=_day(plan.review_on)),
        plan.disclaimer,
        wording.link.format(link=plan_page(plan.session_id, plan.version)),
    ]
    return "\n\n".join(part for part in parts if part)


def as_text(text: str) -> str:
    """Plan text (perhaps a model's) as Markdown that shows it as written, on one line."""
    return MARKDOWN_SIGNS.sub(r"\\\1", " ".join(text.split()))


def _lower_first(text: str) -> str:
    # "Pick one course" reads "first, pick one course"; "SQL ..." keeps its capitals.
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def _day(day: date) -> str:
    """A date people read at a glance, the same in every locale: "Mon 3 March"."""
    return f"{day:%a} {day.day} {day:%B}"
