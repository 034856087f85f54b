"""A plan to take away: Markdown to read, copy or print, and an iCalendar file with
one all-day event per dated step, for any calendar program to import (RFC 5545:
CRLF line endings, escaped text, lines folded at 75 octets).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from coach.guide.record import CHOSEN_EVIDENCE
from coach.plans.schema import Plan

CATEGORY_NAMES = {
    "skills": "Skills",
    "applications": "Applications",
    "interview_practice": "Interview practice",
    "networking": "Networking",
    "wellbeing": "Wellbeing",
    "mindset": "Mindset",
}
ICS_LINE_OCTETS = 75


def plan_markdown(plan: Plan, title: str) -> str:
    """The whole plan as readable Markdown: every goal, step, resource and the routine."""
    lines = [
        f"# {title}: action plan (version {plan.version})",
        "",
        plan.headline,
        "",
        f"From {_first_day(plan)} to {plan.review_on.isoformat()};"
        f" review on {plan.review_on.isoformat()}."
        f" Progress: {plan.progress.done} of {plan.progress.total} steps done.",
        "",
    ]
    insights = plan.insights
    if insights.emotions or insights.likely_causes or insights.strengths:
        lines += ["## What we found", ""]
        if insights.emotions:
            lines.append(f"- Feelings: {', '.join(insights.emotions)}")
        for found in insights.likely_causes:
            cause = found.cause.replace("_", " ")
            if found.evidence == CHOSEN_EVIDENCE:  # a label picked: no words to quote
                lines.append(f"- Likely cause ({cause}), chosen by you")
            else:
                lines.append(f"- Likely cause ({cause}): “{found.evidence}”")
        if insights.strengths:
            lines.append(f"- Strengths: {'; '.join(insights.strengths)}")
        lines.append("")
    lines += ["## Goals", ""]
    for number, goal in enumerate(plan.goals, start=1):
        lines += [
            f"### {number}. {goal.title}",
            "",
            f"*{CATEGORY_NAMES.get(goal.category, goal.category)}.* {goal.why}",
            "",
        ]
        for step in goal.steps:
            due = f" (due {step.due.isoformat()})" if step.due else ""
            lines.append(f"- [{'x' if step.done else ' '}] {step.title}{due}")
        if goal.resources:
            lines += ["", "Resources:", ""]
            for resource in goal.resources:
                link = f" <{resource.url}>" if resource.url else ""
                lines.append(f"- {resource.name} ({resource.kind}){link}")
        lines.append("")
    lines += ["## Your week", "", *(f"- {item}" for item in plan.routine), ""]
    if plan.support:
        lines += ["## Support", "", *(f"- {item}" for item in plan.support), ""]
    if plan.journal:
        lines += ["## Journal", ""]
        for entry in plan.journal:
            heading = "What I learned" if entry.kind == "learned" else "What went well"
            lines.append(f"- {entry.created_at.date().isoformat()}, {heading}: {entry.body}")
        lines.append("")
    lines += ["---", "", plan.disclaimer, ""]
    return "\n".join(lines)


def plan_ics(plan: Plan, title: str, host: str, now: datetime | None = None) -> str:
    """One all-day VEVENT per dated step; the UIDs stay the same across exports, so a
    calendar that imports the file again updates its events instead of doubling them."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//The coach//Action plan//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(title + ': action plan')}",
    ]
    for goal in plan.goals:
        for step in goal.steps:
            if step.due is None:
                continue
            lines += [
                "BEGIN:VEVENT",
                f"UID:plan-{plan.id}-step-{step.id}@{host}",
                f"DTSTAMP:{stamp}",
                f"DTSTART;VALUE=DATE:{step.due.strftime('%Y%m%d')}",
                f"DTEND;VALUE=DATE:{(step.due + timedelta(days=1)).strftime('%Y%m%d')}",
                f"SUMMARY:{_escape(('Done: ' if step.done else '') + step.title)}",
                f"DESCRIPTION:{_escape(f'Goal: {goal.title}. {goal.why}')}",
                "TRANSP:TRANSPARENT",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _first_day(plan: Plan) -> str:
    return (plan.review_on - timedelta(weeks=plan.horizon_weeks)).isoformat()


def _escape(text: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon and comma escaped, line breaks as \\n."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space, never
    splitting a UTF-8 character."""
    parts: list[str] = []
    current = ""
    limit = ICS_LINE_OCTETS
    for char in line:
        if len((current + char).encode()) > limit:
            parts.append(current)
            current = ""
            limit = ICS_LINE_OCTETS - 1  # the leading space counts
        current += char
    parts.append(current)
    return "\r\n ".join(parts)
