"""Turn events to HTTP: a Server-Sent Events stream, or one JSON body at the end."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from flask import Response, stream_with_context

from coach.errors import ModelUnavailable
from coach.turns import TurnEvent


def wants_event_stream(accept: str) -> bool:
    return "text/event-stream" in accept


def event_stream(events: Generator[TurnEvent, None, None], status: int) -> Response:
    def encode() -> Iterator[str]:
        try:
            for event in events:
                yield f"event: {event.name}\ndata: {json.dumps(event.data)}\n\n"
        finally:
            # When the client goes away, let the turn store what it has at once,
            # rather than whenever the garbage collector gets to it.
            events.close()

    return Response(
        stream_with_context(encode()),
        status=status,
        mimetype="text/event-stream",
        # Proxies such as nginx would otherwise hold the reply back until it ends.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def collect_reply(events: Iterable[TurnEvent]) -> dict[str, Any]:
    """Run a turn to its end and return the stored reply, or raise its error."""
    for event in events:
        if event.name == "done":
            reply: dict[str, Any] = event.data["reply"]
            return reply
        if event.name == "error":
            error = event.data["error"]
            raise ModelUnavailable(
                error["message"], retryable=event.data["retryable"], code=error["code"]
            )
    raise ModelUnavailable("The reply ended without an answer.")
