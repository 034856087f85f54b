"""A reply to HTTP: a Server-Sent Events stream as it is written, or one JSON body
at the end. Either way the response only iterates the `Reply` and closes it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Response, request

from coach.coaching.reply import Reply, ReplyEvent
from coach.coaching.turns import read_message
from coach.errors import ModelUnavailable
from coach.web.representations import message_json

EVENT_STREAM = "text/event-stream"


def reply_response(reply: Reply) -> Response | tuple[dict[str, Any], int]:
    if EVENT_STREAM in request.headers.get("Accept", ""):
        return event_stream(reply)
    return collect_reply(reply)


def event_data(event: ReplyEvent) -> dict[str, Any]:
    """The contract's data for each event."""
    shown = message_json(event.message) if event.message is not None else None
    if event.name == "message":
        return {"message": shown}
    if event.name == "delta":
        return {"text": event.text}
    if event.name == "done":
        return {"reply": shown}
    failure = event.failure or ModelUnavailable("The reply ended without an answer.")
    return {
        "error": {"code": failure.code, "message": failure.message},
        "retryable": failure.retryable,
        "reply": shown,
    }


def event_stream(reply: Reply) -> Response:
    def encode() -> Iterator[str]:
        for event in reply:
            # The stream runs after its request has returned, and a message's markup
            # is rendered from the app's templates: give it the app, event by event
            # (a context held across a yield would leak into whoever resumes it).
            with reply.app.app_context():
                data = event_data(event)
            yield f"event: {event.name}\ndata: {json.dumps(data)}\n\n"

    response = Response(
        encode(),
        status=201,
        mimetype=EVENT_STREAM,
        # Proxies such as nginx would otherwise hold the reply back until it ends.
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
    # However the response ends (finished, client gone, never started), the reply
    # ends with it and keeps what it wrote.
    response.call_on_close(reply.close)
    return response


def collect_reply(reply: Reply) -> tuple[dict[str, Any], int]:
    """Run the reply to its end: the stored message and reply, or the reply's error."""
    user_message: dict[str, Any] | None = None
    failure: ModelUnavailable | None = None
    try:
        for event in reply:
            data = event_data(event)
            if event.name == "message":
                user_message = data["message"]
            elif event.name == "done":
                return {"user_message": user_message, "reply": data["reply"]}, 201
            elif event.name == "error":
                failure = event.failure
                break
    finally:
        reply.close()
    failure = failure or ModelUnavailable("The reply ended without an answer.")
    # The seeker's message was stored before the reply began: the error says so, and
    # a client need not guess from the status whether to send it again. A reply that
    # failed while settling the turn sent no "message" event, so read it then.
    failure.body["user_message"] = user_message or message_json(read_message(reply.app, reply.mark))
    raise failure
