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
from coach.counsel.labelling import (
    coding_of,
    is_coach_reply,
    label_new_replies,
    source_detail,
    stored_labels,
)
from coach.counsel.notes import describe_note, session_notes
from coach.counsel.pseudonyms import seeker_of
from coach.counsel.schema import Note, StageSegment, Transcript, TranscriptMessage
from coach.counsel.strategies import ReplyCoding, quality_of
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
    labelling = label_new_replies(app, db, coaching_session.id)
    return describe_transcript(db, coaching_session, app.config["SECRET_KEY"], labelling)


def describe_transcript(
    db: Session,
    coaching_session: CoachingSession,
    secret_key: str,
    labelling: str | None = None,
) -> Transcript:
    """The transcript as stored; `labelling` says why the quality panel shows the
    rules where a model was not asked or could not answer on this read."""
    messages = list(db.scalars(Message.in_session(coaching_session.id)))
    stored = stored_labels(db, coaching_session.id)
    codings = {m.id: coding_of(m.content, stored.get(m.id)) for m in messages if is_coach_reply(m)}
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
    return Transcript(
        id=coaching_session.id,
        seeker=seeker_of(coaching_session, coaching_session.owner, secret_key),
        title=coaching_session.title,
        stage=coaching_session.stage,
        flags=list(coaching_session.flags),
        careful=coaching_session.careful_since is not None,
        created_at=coaching_session.created_at,
        last_activity_at=coaching_session.last_activity_at,
        segments=_segments(messages, raised, by_message, codings),
        reflection=ReflectionRecord.model_validate(coaching_session.reflection),
        checkins=session_checkins(db, coaching_session.id),
        plan=None if plan is None else describe_plan(plan, plan_templates().disclaimer),
        notes=[describe_note(n) for n in notes if n.message_id is None],
        quality=quality_of(list(codings.values()), labelling or source_detail(codings, stored)),
    )


def _segments(
    messages: list[Message],
    raised: dict[int, str],
    notes: dict[int, list[Note]],
    codings: dict[int, ReplyCoding],
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
                content_html=message.shown_html(),
                stage=message.stage,
                status=message.status,
                created_at=message.created_at,
                safety=message.safety,
                raised_flag=raised.get(message.id),
                strategy=codings[message.id].label if message.id in codings else None,
                notes=notes.get(message.id, []),
            )
        )
    return segments
