"""What the API answers about the service rather than one seeker's coaching: the
error every route may give, the health and readiness probes, this OpenAPI document,
and the crisis referrals counted for admins."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.experimental.missing_sentinel import MISSING

from coach.providers import PROVIDERS
from coach.web.schemas.base import OneOf, ResponseShape
from coach.web.schemas.sessions import Message


class ErrorDetail(ResponseShape):
    code: str = Field(description="Stable and machine-readable, e.g. `reply_in_progress`.")
    message: str = Field(description="For people.")


class Error(ResponseShape):
    """What went wrong."""

    error: ErrorDetail
    user_message: Message | MISSING = Field(
        default=MISSING,
        description="When posting a message: the seeker's message, if it was stored "
        "before the reply failed (send it again only when this is absent).",
    )


class Health(ResponseShape):
    """Whether the database answers, and which provider is in use."""

    status: Literal["ok", "degraded"]
    db: Literal["ok", "unavailable"]
    provider: Annotated[str, OneOf(tuple(PROVIDERS))]


class Liveness(ResponseShape):
    """The process answers."""

    status: Literal["ok"]


class ReadinessReport(ResponseShape):
    """Whether this instance can serve now, and each check: `ok`, `failed`, or
    `not_configured` (Redis without COACH_REDIS_URL)."""

    status: Literal["ready", "degraded", "not_ready"]
    checks: dict[str, Literal["ok", "failed", "not_configured"]]


class OpenApiDocument(BaseModel):
    """This description of the API, as OpenAPI 3.1."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


class ReferralDay(ResponseShape):
    day: str = Field(description="An ISO date (UTC).")
    crisis: int = Field(description="Crisis replies given that day.")


class Referrals(ResponseShape):
    """Crisis referrals counted by day: numbers only, no one's data."""

    days: list[ReferralDay]
