"""How a counselor sees the seeker: a pseudonym, stable for that seeker across
their sessions, unless the seeker chose to show their name on this session.

The pseudonym is a keyed hash of the user's id, so that counselors can tell two
sessions of one seeker apart from another's without learning who it is, and it
cannot be turned back into the id without the app's secret key.
"""

from __future__ import annotations

import hashlib
import hmac

from coach.counsel.schema import Seeker
from coach.storage.models import CoachingSession, User

PSEUDONYM_DIGITS = 6


def seeker_of(coaching_session: CoachingSession, owner: User, secret_key: str) -> Seeker:
    name = owner.display_name or owner.email
    if coaching_session.show_name and name:
        return Seeker(label=name, named=True)
    return Seeker(label=pseudonym(owner.id, secret_key), named=False)


def pseudonym(user_id: int, secret_key: str) -> str:
    digest = hmac.new(secret_key.encode(), f"seeker:{user_id}".encode(), hashlib.sha256)
    return f"Seeker {digest.hexdigest()[:PSEUDONYM_DIGITS].upper()}"
