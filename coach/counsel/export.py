"""A shared transcript as Markdown, for a counselor's records. Exporting is a read
like any other: its line goes into the audit log first."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from coach.counsel import audit
from coach.counsel.access import get_shared_session
from coach.counsel.schema import Note, Transcript
from coach.counsel.transcript import describe_transcript
from coach.guide.record import plain_markdown
from coach.storage.models import User

SPEAKERS = {"user": "Seeker", "assistant": "Coach"}

# In a message, what could become markup a reader did not write: raw HTML, links
# and images, code. Emphasis stays; it is harmless and the coach's replies use it.
_ACTIVE_IN_MESSAGES = ("\\", "`", "<", ">", "[", "]")


def export_transcript(app: Flask, db: Session, counselor: User, session_id: int) -> str:
    coaching_session = get_shared_session(db, counselor, session_id)
    audit.record_read(app, counselor, "transcript_export", coaching_session.id)
    return transcript_markdown(describe_transcript(db, coaching_session, app.config["SECRET_KEY"]))


def transcript_markdown(transcript: Transcript) -> str:
    lines = [
        f"# {plain_markdown(transcript.title)}",
        "",
        f"- Seeker: {plain_markdown(transcript.seeker.label)}",
        f"- Session {transcript.id}, started {transcript.created_at:%Y-%m-%d %H:%M} UTC,"
        f" last active {transcript.last_activity_at:%Y-%m-%d %H:%M} UTC",
        f"- Flags: {', '.join(transcript.flags) or 'none'}",
    ]
    moods = ", ".join(f"{c.moment} {c.score}/5" for c in transcript.checkins)
    lines.append(f"- Mood check-ins: {moods or 'none'}")
    quality = transcript.quality
    lines.append(
        f"- Reflections to questions: {_ratio(quality.reflections_to_questions.value)}"
        f" ({quality.reflections_to_questions.rating}); complex reflections:"
        f" {_percent(quality.complex_reflections.value)} ({quality.complex_reflections.rating});"
        f" labelled by {quality.source}"
    )
    for segment in transcript.segments:
        lines += ["", f"## {plain_markdown(segment.title)}", ""]
        for message in segment.messages:
            marks = []
            if message.raised_flag:
                marks.append(f"raised flag: {message.raised_flag}")
            if message.strategy:
                marks.append(f"strategy: {message.strategy.strategy}, by {message.strategy.source}")
            suffix = f" ({'; '.join(marks)})" if marks else ""
            lines.append(f"**{SPEAKERS[message.role]}**{suffix}, {message.created_at:%H:%M}:")
            lines.append("")
            quoted = [_in_quote(line) for line in message.content.splitlines()]
            lines += [f"> {line}" if line else ">" for line in quoted]
            lines.append("")
            lines += [_note_line(n) for n in message.notes]
    record = transcript.reflection
    lines += ["", "## Reflection record", ""]
    lines += [f"- Emotions: {plain_markdown(', '.join(record.emotions)) or 'none'}"]
    lines += [
        f"- Likely cause: {c.cause}: {plain_markdown(c.evidence)}" for c in record.likely_causes
    ]
    if record.cause_unknown:
        lines.append("- The reason is not known yet")
    for label, entries in (
        ("Feedback", record.feedback),
        ("Strength", record.strengths),
        ("Goal", record.goals),
        ("Routine", record.routine),
        ("Support", record.support),
    ):
        lines += [f"- {label}: {plain_markdown(entry)}" for entry in entries]
    if transcript.plan is not None:
        plan = transcript.plan
        lines += ["", f"## Plan (version {plan.version})", "", plain_markdown(plan.headline), ""]
        lines.append(f"Progress: {plan.progress.done} of {plan.progress.total} steps done.")
        for goal in plan.goals:
            lines.append(f"- {plain_markdown(goal.title)}")
            lines += [
                f"  - [{'x' if s.done else ' '}] {plain_markdown(s.title)}" for s in goal.steps
            ]
    if transcript.notes:
        lines += ["", "## Notes", ""]
        lines += [_note_line(n) for n in transcript.notes]
    return "\n".join(lines).rstrip() + "\n"


def _note_line(note: Note) -> str:
    seen = " (visible to the seeker)" if note.visible_to_seeker else ""
    edited = f", edited {note.edited_at:%Y-%m-%d %H:%M} UTC" if note.edited_at else ""
    return f"- Note by {plain_markdown(note.author)}{seen}{edited}: {plain_markdown(note.body)}"


def _in_quote(line: str) -> str:
    """A line of a message (the seeker's or a model's words: untrusted), made plain."""
    for special in _ACTIVE_IN_MESSAGES:
        line = line.replace(special, "\\" + special)
    return line


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}:1"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"
