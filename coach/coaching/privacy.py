"""What a seeker can ask of their data: all of it, as JSON; all of it, gone. And
the retention rule that deletes guests nobody has touched for a while.

Deleting leaves no copy of the words behind (`forget_deleted`). Safety events
stay, unlinked: they carry no words and no one's identity, and keep the daily
counts of referrals true.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from coach.storage.database import forget_deleted, short_transaction
from coach.storage.models import CoachingSession, Message, User


def export_everything(db: Session, user: User) -> dict[str, Any]:
    """Everything stored about the user (the web layer gives it its JSON shape)."""
    sessions = db.scalars(CoachingSession.owned_by(user.id)).all()
    return {
        "user": {
            "id": user.id,
            "email": user.email,
            "role": user.role,
            "is_guest": user.is_guest,
            "created_at": user.created_at,
        },
        "sessions": [_session_export(db, s) for s in sessions],
        "exported_at": datetime.now(UTC),
    }


def _session_export(db: Session, coaching_session: CoachingSession) -> dict[str, Any]:
    messages = db.scalars(Message.in_session(coaching_session.id)).all()
    return {
        "id": coaching_session.id,
        "title": coaching_session.title,
        "stage": coaching_session.stage,
        "shared": coaching_session.shared,
        "flags": list(coaching_session.flags),
        "reflection": coaching_session.reflection,
        "summary": coaching_session.summary,
        "created_at": coaching_session.created_at,
        "messages": [
            {
                "id": m.id,
                "role": m.role,
                "content": m.content,
                "stage": m.stage,
                "status": m.status,
                "model": m.model,
                "created_at": m.created_at,
            }
            for m in messages
        ],
    }


def delete_everything(app: Flask, user_id: int) -> None:
    """The user and all they stored: sessions, messages, tokens."""
    with short_transaction(app) as db:
        db.execute(delete(User).where(User.id == user_id))
    forget_deleted(app)


def purge_idle_guests(app: Flask, idle_days: int, now: datetime | None = None) -> int:
    """Delete guests whose account and sessions nobody has touched for `idle_days`;
    return how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=idle_days)
    last_touched = (
        select(func.max(CoachingSession.updated_at))
        .where(CoachingSession.owner_id == User.id)
        .scalar_subquery()
    )
    with short_transaction(app) as db:
        idle = db.scalars(
            select(User.id)
            .where(User.is_guest.is_(True), User.created_at < cutoff)
            .where((last_touched.is_(None)) | (last_touched < cutoff))
        ).all()
        if idle:
            db.execute(delete(User).where(User.id.in_(idle)))
    if idle:
        forget_deleted(app)
    return len(idle)
