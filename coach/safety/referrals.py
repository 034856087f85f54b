"""Crisis referrals counted by day, for an admin: numbers only, from the safety
events, which carry no one's words or identity."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coach.storage.models import SafetyEvent

REFERRAL_KINDS = ("crisis", "crisis_model")


def referrals_by_day(db: Session) -> list[tuple[str, int]]:
    """(ISO day, crisis replies given) for each day that had any, oldest first."""
    day = func.date(SafetyEvent.created_at)
    rows = db.execute(
        select(day, func.count())
        .where(SafetyEvent.kind.in_(REFERRAL_KINDS))
        .group_by(day)
        .order_by(day)
    ).all()
    return [(_iso_day(value), int(count)) for value, count in rows]


def _iso_day(value: str | date | datetime) -> str:
    # SQLite's date() gives text, PostgreSQL's a date.
    return value.isoformat()[:10] if isinstance(value, date | datetime) else str(value)
