"""The events of a reply streamed as Server-Sent Events, by event name.

`coach.web.streaming` sends each event as its shape here, and the OpenAPI document
lists them (`REPLY_EVENTS`) under the streamed answer of the routes that reply.
"""

from __future__ import annotations

from pydantic import Field

from coach.web.schemas.base import ResponseShape
from coach.web.schemas.service import ErrorDetail
from coach.web.schemas.sessions import Message


class MessageEvent(ResponseShape):
    """`event: message`: the seeker's message, stored before the reply begins."""

    message: Message


class DeltaEvent(ResponseShape):
    """`event: delta`: the next piece of the reply's text."""

    text: str


class DoneEvent(ResponseShape):
    """`event: done`: the reply, stored complete."""

    reply: Message


class ErrorEvent(ResponseShape):
    """`event: error`: the reply failed or broke off; what it wrote is stored."""

    error: ErrorDetail
    retryable: bool = Field(description="Whether `POST .../retry` may answer the message again.")
    reply: Message | None = Field(description="The partial or failed reply, if one was stored.")


REPLY_EVENTS: dict[str, type[ResponseShape]] = {
    "message": MessageEvent,
    "delta": DeltaEvent,
    "done": DoneEvent,
    "error": ErrorEvent,
}
