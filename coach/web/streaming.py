"""A reply to HTTP: a Server-Sent Events stream as it is written, or one JSON body
at the end. Either way the response only iterates the `Reply` and closes it.

A stream says nothing while the reply waits (the safety screen, the model opening
its answer, a slow chunk), and a proxy or load balancer cuts a connection that
stays silent for its idle timeout (often 60 s). So the reply is iterated in a
thread of its own (`_ReplyPump`) and the response writes an SSE comment,
`: keep-alive`, whenever COACH_SSE_KEEPALIVE_SECONDS pass without an event;
clients ignore comments.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any

from flask import Response, current_app, request

from coach.coaching.reply import Reply, ReplyEvent, read_message
from coach.errors import ModelUnavailable
from coach.web import schemas
from coach.web.representations import message_shape

log = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"
KEEP_ALIVE = ": keep-alive\n\n"


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
    pump = _ReplyPump(reply)
    keepalive_seconds: float = current_app.config["COACH_SSE_KEEPALIVE_SECONDS"]

    def encode() -> Iterator[str]:
        pump.start()
        while True:
            try:
                event = pump.events.get(timeout=keepalive_seconds)
            except queue.Empty:
                yield KEEP_ALIVE
                continue
            if event is None:
                return
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
    response.call_on_close(pump.stop)
    return response


class _ReplyPump:
    """Iterates a reply in a thread of its own into a queue (None marks the end),
    so that the response can wait for the next event with a timeout.

    The reply is closed in that thread too, since a generator cannot be closed
    from another thread while it runs: `stop` asks, and the pump closes the reply
    after the event it is waiting for (the reply keeps what it wrote)."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.events: queue.Queue[ReplyEvent | None] = queue.Queue()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopped.is_set():
                self._thread = threading.Thread(
                    target=self._run, name=f"reply-{self.reply.mark.message_id}", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopped.set()
            started = self._thread is not None
        if not started:  # the response was never iterated: end the reply here
            self.reply.close()

    def _run(self) -> None:
        try:
            for event in self.reply:
                self.events.put(event)
                if self._stopped.is_set():
                    break
        except Exception:
            log.exception("the reply to message %s failed", self.reply.mark.message_id)
        finally:
            self.reply.close()
            self.events.put(None)


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
