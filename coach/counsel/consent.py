"""A seeker's consent: sharing a session with counselors, and showing their name
with it. Nothing is shared until the seeker says so; withdrawing takes effect on
the counselors' next request, since every read checks `shared` afresh. Each
change is a line in the audit log, committed with the change itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from coach.coaching.sessions import update_session
from coach.counsel import audit
from coach.errors import InvalidInput
from coach.storage.models import CoachingSession, User

CONSENT_FIELDS = {"shared", "show_name"}


def change_session(
    db: Session, user: User, coaching_session: CoachingSession, changes: dict[str, Any]
) -> CoachingSession:
    """The owner's changes to their session: title and stage as ever, and consent."""
    if "show_name" in changes:
        _change_show_name(db, user, coaching_session, changes.pop("show_name"))
        if not changes:
            db.commit()
            return coaching_session
    if "shared" in changes and changes["shared"] != coaching_session.shared:
        action = "consent_given" if changes["shared"] else "consent_withdrawn"
        audit.record(db, user, action, coaching_session.id)
    return update_session(db, coaching_session, changes)


def set_sharing(
    db: Session, user: User, coaching_session: CoachingSession, *, shared: bool, show_name: bool
) -> CoachingSession:
    """The chat page's form: both choices at once."""
    return change_session(db, user, coaching_session, {"shared": shared, "show_name": show_name})


def _change_show_name(
    db: Session, user: User, coaching_session: CoachingSession, show_name: object
) -> None:
    if not isinstance(show_name, bool):
        raise InvalidInput("show_name must be true or false.")
    if show_name != coaching_session.show_name:
        coaching_session.show_name = show_name
        audit.record(db, user, "name_shown" if show_name else "name_hidden", coaching_session.id)
