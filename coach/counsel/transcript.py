"""A shared session as a counselor reads it: the conversation segmented by stage,
safety flags at the seeker message that raised them, the reflection record, the
mood check-ins, the latest plan with its progress, the notes, and the quality
panel. Reading it writes its line in the audit log first (`audit.record_read`).
"""

from __future__ import annotations

from collections import defaultdict

from flask import Flask
from sqlalchemy.orm import Session

from coach.counsel import audit
from coach.counsel.access import get_shared_session
from coach.counsel.notes import describe_note, session_notes
from coach.counsel.pseudonyms import seeker_of
from coach.counsel.schema import Note, StageSegment, Transcript, TranscriptMessage
from coach.counsel.strategies import label_reply, session_quality
from coach.guide.frameworks import frameworks
from coach.guide.record import ReflectionRecord
from coach.plans.templates import plan_templates
from coach.plans.tracking import describe_plan, session_checkins
from coach.storage.models import CoachingSession, Message, Plan, User

# The safety replies that mean the seeker message before them raised a flag.
FLAG_OF_SAFETY_REPLY = {"crisis": "crisis"}


def read_transcript(app: Flask, db: Session, counselor: User, session_id: int) -> Transcript:
    """The transcript, once its read is on record."""
    coaching_session = get_shared_session(db, counselor, session_id)
    audit.record_read(app, counselor, "transcript_read", coaching_session.id)
    return describe_transcript(db, coaching_session, app.config["SECRET_KEY"])


def describe_transcript(
    db: Session, coaching_session: CoachingSession, secret_key: str
) -> Transcript:
    messages = list(db.scalars(Message.in_session(coaching_session.id)))
    notes = session_notes(db, coaching_session.id)
    by_message: dict[int, list[Note]] = defaultdict(list)
    for note in notes:
        if note.message_id is not None:
            by_message[note.message_id].append(describe_note(note))
    raised = {
        m.reply_to_id: FLAG_OF_SAFETY_REPLY[m.safety]
        for m in messages
        if m.reply_to_id is not None and m.safety in FLAG_OF_SAFETY_REPLY
    }
    plan = db.scalars(Plan.of_session(coaching_session.id).limit(1)).first()
    replies = [m.content for m in messages if _is_coach_reply(m)]
    return Transcript(
        id=coaching_session.id,
        seeker=seeker_of(coaching_session, coaching_session.owner, secret_key),
        title=coaching_session.title,
        stage=coaching_session.stage,
        flags=list(coaching_session.flags),
        careful=coaching_session.careful_since is not None,
        created_at=coaching_session.created_at,
        last_activity_at=coaching_session.last_activity_at,
        segments=_segments(messages, raised, by_message),
        reflection=ReflectionRecord.model_validate(coaching_session.reflection),
        checkins=session_checkins(db, coaching_session.id),
        plan=None if plan is None else describe_plan(plan, plan_templates().disclaimer),
        notes=[describe_note(n) for n in notes if n.message_id is None],
        quality=session_quality(replies),
    )


def _is_coach_reply(message: Message) -> bool:
    # Fixed safety words are people's words, not the coach's craft: left out.
    return message.role == "assistant" and message.safety is None and bool(message.content)


def _segments(
    messages: list[Message], raised: dict[int, str], notes: dict[int, list[Note]]
) -> list[StageSegment]:
    """Consecutive messages of one stage together; a stage returned to is a new segment."""
    segments: list[StageSegment] = []
    for message in messages:
        if not segments or segments[-1].stage != message.stage:
            title = frameworks().stage(message.stage).title
            segments.append(StageSegment(stage=message.stage, title=title, messages=[]))
        segments[-1].messages.append(
            TranscriptMessage(
                id=message.id,
                role=message.role,
                content=message.content,
                stage=message.stage,
                status=message.status,
                created_at=message.created_at,
                safety=message.safety,
                raised_flag=raised.get(message.id),
                strategy=label_reply(message.content) if _is_coach_reply(message) else None,
                notes=notes.get(message.id, []),
            )
        )
    return segments
