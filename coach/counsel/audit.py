"""The audit log: every counselor read and export of a transcript, every note added,
changed or deleted, and every change of a seeker's consent, with who and when. Lines
are only ever added; an admin may read and export them, nobody may change them
through the app.

A read happens in a GET, whose database session on SQLite is a read transaction
(DEFERRED): its audit line is written by `record_read` in a short write
transaction of its own, committed before the transcript is sent, so that no
transcript leaves without its line on record.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from coach.counsel.schema import AuditLine, AuditPage
from coach.storage.database import short_transaction
from coach.storage.models import AuditEntry, User

CSV_COLUMNS = (
    "id",
    "created_at",
    "actor_id",
    "actor_role",
    "actor_email",
    "action",
    "session_id",
    "detail",
)
# Whose email an audit line shows: the staff who read transcripts. Seekers stay
# pseudonymous, by their id alone.
NAMED_ROLES = ("counselor", "admin")


def record(db: Session, actor: User, action: str, session_id: int | None, detail: str = "") -> None:
    """Add a line to the caller's transaction: it commits with the change it records."""
    db.add(
        AuditEntry(
            actor_id=actor.id,
            actor_role=actor.role,
            action=action,
            coaching_session_id=session_id,
            detail=detail[:300],
        )
    )


def record_read(app: Flask, actor: User, action: str, session_id: int) -> None:
    """A line for a read, in a short write transaction of its own."""
    with short_transaction(app) as db:
        record(db, actor, action, session_id)


def record_read_of_many(app: Flask, actor: User, action: str, detail: str) -> None:
    """A line for a read across sessions (a search), in a transaction of its own."""
    with short_transaction(app) as db:
        record(db, actor, action, None, detail)


def audit_page(db: Session, before: int | None, limit: int) -> AuditPage:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    entries = list(db.scalars(query))
    shown = entries[:limit]
    emails = staff_emails(db)
    return AuditPage(
        items=[describe(e, emails) for e in shown],
        next_before=shown[-1].id if len(entries) > limit else None,
    )


def staff_emails(db: Session) -> dict[int, str]:
    """The counselors' and admins' emails by id: few people, read once a page."""
    rows = db.execute(select(User.id, User.email).where(User.role.in_(NAMED_ROLES)))
    return {user_id: email for user_id, email in rows if email}


def describe(entry: AuditEntry, emails: dict[int, str]) -> AuditLine:
    named = entry.actor_role in NAMED_ROLES and entry.actor_id is not None
    return AuditLine(
        id=entry.id,
        created_at=entry.created_at,
        actor_id=entry.actor_id,
        actor_role=entry.actor_role,
        actor_email=emails.get(entry.actor_id) if named and entry.actor_id else None,
        action=entry.action,
        session_id=entry.coaching_session_id,
        detail=entry.detail,
    )


def audit_csv(db: Session) -> Iterator[str]:
    """The whole log as CSV, oldest first, a row at a time (it may be long)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    yield _drain(out)
    emails = staff_emails(db)
    for entry in db.scalars(
        select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=500)
    ):
        line = describe(entry, emails)
        writer.writerow(
            [
                line.id,
                line.created_at.isoformat(),
                "" if line.actor_id is None else line.actor_id,
                line.actor_role,
                _no_formula(line.actor_email or ""),
                line.action,
                "" if line.session_id is None else line.session_id,
                _no_formula(line.detail),
            ]
        )
        yield _drain(out)


def _drain(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def _no_formula(text: str) -> str:
    # A spreadsheet would run a cell that starts like a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
