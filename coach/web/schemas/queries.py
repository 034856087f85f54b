"""The query strings the API reads: each a `QueryShape`, parsed from text by
`coach.web.api.requests` and documented as the operation's query parameters."""

from __future__ import annotations

from pydantic import Field

from coach.coaching.sessions import MAX_MESSAGES_SHOWN, MAX_PER_PAGE, MESSAGES_SHOWN
from coach.counsel.schema import DashboardFilters
from coach.storage.models import MAX_ID
from coach.web.schemas.base import QueryShape


class PlanQuery(QueryShape):
    version: int | None = Field(
        default=None, ge=1, le=999_999, description="An earlier version; the latest if left out."
    )


class CounselorSessionsQuery(DashboardFilters, QueryShape):
    """The counselors' dashboard: filters, search and the page to show."""


class AuditQuery(QueryShape):
    before: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="`next_before` of the page before."
    )
    per_page: int = Field(default=50, ge=1, le=500)


class SessionListQuery(QueryShape):
    page: int = Field(default=1, ge=1, le=999_999)
    per_page: int = Field(default=20, ge=1, le=MAX_PER_PAGE)


class SessionShowQuery(QueryShape):
    """Which of the session's messages to show: the newest `limit`, or the newest
    `limit` before a message (to read further back, a page at a time)."""

    limit: int = Field(
        default=MESSAGES_SHOWN, ge=1, le=MAX_MESSAGES_SHOWN, description="Messages to show."
    )
    before: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="Only messages older than this one: the `id` of the first message "
        "shown, when `has_earlier` is true.",
    )
