"""A reply to HTTP: a Server-Sent Events stream as it is written, or one JSON body
at the end. Either way the response only iterates the `Reply` and closes it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Response, request

from coach.coaching.reply import Reply, ReplyEvent, read_message
from coach.errors import ModelUnavailable
from coach.web import schemas
from coach.web.representations import message_shape

EVENT_STREAM = "text/event-stream"


def reply_response(reply: Reply) -> Response | tuple[dict[str, Any], int]:
    if EVENT_STREAM in request.headers.get("Accept", ""):
        return event_stream(reply)
    return collect_reply(reply)


def event_data(event: ReplyEvent) -> dict[str, Any]:
    """The contract's data for each event, as its shape in `schemas.REPLY_EVENTS`."""
    return event_shape(event).model_dump(mode="json")


def event_shape(event: ReplyEvent) -> schemas.ResponseShape:
    if event.name == "delta":
        return schemas.DeltaEvent(text=event.text)
    shown = message_shape(event.message) if event.message is not None else None
    if event.name == "error":
        failure = event.failure or ModelUnavailable("The reply ended without an answer.")
        return schemas.ErrorEvent(
            error=schemas.ErrorDetail(code=failure.code, message=failure.message),
            retryable=failure.retryable,
            reply=shown,
        )
    if shown is None:
        raise ValueError(f"A {event.name} event carries its stored message.")
    if event.name == "message":
        return schemas.MessageEvent(message=shown)
    return schemas.DoneEvent(reply=shown)


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
    user_message: schemas.Message | None = None
    failure: ModelUnavailable | None = None
    try:
        for event in reply:
            shape = event_shape(event)
            if isinstance(shape, schemas.MessageEvent):
                user_message = shape.message
            elif isinstance(shape, schemas.DoneEvent) and user_message is not None:
                turn = schemas.Turn(user_message=user_message, reply=shape.reply)
                return turn.model_dump(mode="json"), 201
            elif event.name == "error":
                failure = event.failure
                break
    finally:
        reply.close()
    failure = failure or ModelUnavailable("The reply ended without an answer.")
    # The seeker's message was stored before the reply began: the error says so, and
    # a client need not guess from the status whether to send it again. A reply that
    # failed while settling the turn sent no "message" event, so read it then.
    stored = user_message or message_shape(read_message(reply.app, reply.mark))
    failure.body["user_message"] = stored.model_dump(mode="json")
    raise failure
