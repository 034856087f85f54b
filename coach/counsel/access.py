"""Who may read a shared session: a counselor, and only while its owner shares it.

`get_shared_session` is the one gate. A session that is not shared is a 404,
exactly like one that does not exist, so an id tells a counselor nothing; a
caller who is not a counselor is refused outright (403), whatever the id.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from coach.errors import Forbidden, NotFound
from coach.storage.models import CoachingSession, User

COUNSELOR_ROLES = ("counselor",)


def require_counselor(user: User) -> None:
    # Admins keep the log, not the transcripts: they read counts, never a seeker's words.
    if user.role not in COUNSELOR_ROLES:
        raise Forbidden("Only a counselor may read shared sessions.", code="counselors_only")


def get_shared_session(db: Session, user: User, session_id: int) -> CoachingSession:
    require_counselor(user)
    coaching_session = db.get(CoachingSession, session_id)
    if coaching_session is None or not coaching_session.shared:
        raise NotFound("No such session.")
    return coaching_session
