"""The stored data: users and their API tokens, coaching sessions and their messages,
action plans (versions, goals, steps, resources, journal entries), mood check-ins,
counselors' notes, the coach replies' strategy labels and the audit log of who read
or changed what.

One module per kind of data, each beside the `Base` they share (`base`): `accounts`,
`conversation`, `plans` and `counsel`. The rest of the app imports the models from
here. Importing this package imports every model module, so that every mapper is
registered before any is used: relationships name their targets by class name, and
the migrations compare the whole schema against `Base.metadata`.
"""

from __future__ import annotations

from coach.storage.models.accounts import DISPLAY_NAME_CHARS, ROLES, ApiToken, User
from coach.storage.models.base import MAX_ID, MODEL_NAME_CHARS, Base, utcnow
from coach.storage.models.conversation import (
    DEFAULT_TITLE,
    FULLTEXT_CONFIGURATION,
    MAX_TITLE_CHARS,
    MESSAGE_ROLES,
    MESSAGE_STATUSES,
    MESSAGES_TABLE,
    SESSIONS_TABLE,
    CoachingSession,
    Message,
    SafetyEvent,
)
from coach.storage.models.counsel import AUDIT_ACTIONS, AuditEntry, CounselorNote, ReplyLabel
from coach.storage.models.plans import (
    CHECKIN_MOMENTS,
    JOURNAL_KINDS,
    PLAN_TEXT_CHARS,
    JournalEntry,
    MoodCheckin,
    Plan,
    PlanGoal,
    PlanResource,
    PlanStep,
)

__all__ = [
    "AUDIT_ACTIONS",
    "CHECKIN_MOMENTS",
    "DEFAULT_TITLE",
    "DISPLAY_NAME_CHARS",
    "FULLTEXT_CONFIGURATION",
    "JOURNAL_KINDS",
    "MAX_ID",
    "MAX_TITLE_CHARS",
    "MESSAGES_TABLE",
    "MESSAGE_ROLES",
    "MESSAGE_STATUSES",
    "MODEL_NAME_CHARS",
    "PLAN_TEXT_CHARS",
    "ROLES",
    "SESSIONS_TABLE",
    "ApiToken",
    "AuditEntry",
    "Base",
    "CoachingSession",
    "CounselorNote",
    "JournalEntry",
    "Message",
    "MoodCheckin",
    "Plan",
    "PlanGoal",
    "PlanResource",
    "PlanStep",
    "ReplyLabel",
    "SafetyEvent",
    "User",
    "utcnow",
]
