"""A reply to HTTP: a Server-Sent Events stream as it is written, or one JSON body
at the end. Either way the response only iterates the `Reply` and closes it.

A stream says nothing while the reply waits (the safety screen, the model opening
its answer, a slow chunk), and a proxy or load balancer cuts a connection that
stays silent for its idle timeout (often 60 s). So the reply is iterated in a
thread of its own (`_ReplyPump`) and the response writes an SSE comment,
`: keep-alive`, whenever COACH_SSE_KEEPALIVE_SECONDS pass without an event;
clients ignore comments.

A client that goes away is seen at once, not at the next write (which may be a
sentence or a keep-alive away, and the first write after a close still
succeeds): under gunicorn the client's socket is watched (`_ClientWatch`, one
thread a process) and, when it closes, the reply is told (`Reply.client_gone`):
its request to the model is cut at once, from that thread, and the reply stops,
keeping what it wrote.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import selectors
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any

from flask import Response, current_app, request

from coach.coaching.reply import Reply, ReplyEvent
from coach.coaching.reply_storage import read_message
from coach.errors import ModelUnavailable
from coach.web import schemas
from coach.web.representations import message_shape

log = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"
KEEP_ALIVE = ": keep-alive\n\n"
# Where gunicorn puts the client's socket in a request's WSGI environment.
CLIENT_SOCKET = "gunicorn.socket"


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
    client = request.environ.get(CLIENT_SOCKET)
    if isinstance(client, ssl.SSLSocket) or not isinstance(client, socket.socket):
        # Not under gunicorn, or TLS in gunicorn itself (its bytes cannot be peeked
        # at): the client is seen gone at the next write, as before.
        client = None

    def encode() -> Iterator[str]:
        if client is not None:
            client_watch().watch(client, pump.client_gone)
        pump.start()
        while True:
            try:
                event = pump.events.get(timeout=keepalive_seconds)
            except queue.Empty:
                yield KEEP_ALIVE
                continue
            if event is None:
                return
            yield encode_event(reply, event)

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
    if client is not None:
        # Before gunicorn keeps the connection for its next request.
        response.call_on_close(lambda: client_watch().forget(client))
    return response


def encode_event(reply: Reply, event: ReplyEvent) -> str:
    """One event as SSE text."""
    if event.name == "delta":
        # Most events of a stream, and only text: the shape `schemas.DeltaEvent`
        # gives, without an app context and a model for each one.
        data = json.dumps({"text": event.text})
    else:
        # The stream runs after its request has returned, and a message's markup
        # is rendered from the app's templates: give it the app, event by event
        # (a context held across a yield would leak into whoever resumes it).
        with reply.app.app_context():
            data = json.dumps(event_data(event))
    return f"event: {event.name}\ndata: {data}\n\n"


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

    def client_gone(self) -> None:
        """The client closed its connection: the reply's request to the model is cut
        and the reply stops, and the response ends now (its thread is not kept for
        a dead socket)."""
        self.reply.client_gone()
        self._stopped.set()
        self.events.put(None)

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


class _ClientWatch:
    """Watches the sockets of streaming clients, in one thread a process, and calls
    a stream's `on_gone` when its client closes the connection (end of file or an
    error). A client that sends more bytes instead is not watched further: what
    comes next is not a close."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        # Never empty: an empty selector returns at once on some platforms. Nothing
        # is written to it, since a socket registered while `select` waits is seen.
        self._idle, self._unused = socket.socketpair()
        self._selector.register(self._idle, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, client: socket.socket, on_gone: Callable[[], None]) -> None:
        with self._lock:
            try:
                self._selector.register(client, selectors.EVENT_READ, on_gone)
            except (KeyError, ValueError, OSError):  # watched already, or closed
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="client-watch", daemon=True)
                self._thread.start()

    def forget(self, client: socket.socket) -> None:
        with self._lock, contextlib.suppress(KeyError, ValueError, OSError):
            self._selector.unregister(client)

    def _run(self) -> None:
        while True:
            try:
                self._check_ready()
            except Exception:  # the watch must outlive any one socket's trouble
                log.exception("the client watch failed to check a socket")

    def _check_ready(self) -> None:
        for key, _mask in self._selector.select(timeout=WATCH_IDLE_SECONDS):
            if key.data is None:
                continue
            client: socket.socket = key.fileobj  # type: ignore[assignment]
            try:
                gone = client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
            except BlockingIOError:
                continue
            except OSError:
                gone = True
            self.forget(client)
            if gone:
                key.data()


WATCH_IDLE_SECONDS = 0.5
_watch_lock = threading.Lock()
_watch: _ClientWatch | None = None


def client_watch() -> _ClientWatch:
    """This process's watch (made in the worker that streams, after gunicorn's fork)."""
    global _watch
    with _watch_lock:
        if _watch is None:
            _watch = _ClientWatch()
        return _watch


def collect_reply(reply: Reply) -> tuple[dict[str, Any], int]:
    """Run the reply to its end: the stored message and reply, or the reply's error."""
    user_message: schemas.Message | None = None
    failure: ModelUnavailable | None = None
    reply.streamed = False  # nothing is shown before the end
    try:
        for event in reply:
            if event.name == "delta":
                continue  # the done event carries the whole reply
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
