"""A scripted, OpenAI-compatible model server on 127.0.0.1, for testing the `openai` path.

The installed `openai` client talks through `httpx2`, so mocking libraries made for
`httpx` do not intercept it; a real local HTTP server does. A test scripts what the
server does, one behaviour per request in order (`enqueue_stream`, `enqueue_json`,
`enqueue_error`, `enqueue_broken_stream`), and reads what the client sent from
`requests`; the crisis checks, summary rewrites and the quality panel's labelling
(`enqueue_labels`, `enqueue_label_error`) have queues and lists of their own. A
request that finds nothing scripted gets a 500 and is counted in `unscripted`, so
that a test never hangs waiting for a reply nobody wrote.

Streams use chunked transfer encoding on a connection that is closed after each
response: a stream that ends without its last chunk is, to the client, a stream
that broke off, which is how `enqueue_broken_stream` injects the fault.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Behaviour = Callable[["_Handler"], None]
HOST = "127.0.0.1"
CRISIS_CHECK = "crisis_check"  # the JSON schema name of the safety second check
SUMMARY = "rolling_summary"  # the JSON schema name of the summary's rewrite
# The JSON schema name of the record's reading and the summary's rewrite in one request.
COMBINED = "record_and_summary"
DEFAULT_SUMMARY = "They are talking through a rejection after a second interview."
LABELS = "strategy_labels"  # the JSON schema name of the quality panel's labelling

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_exceeded",
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it; header names are lower-case."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.body.get("messages", [])
        return messages

    @property
    def streamed(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def schema_name(self) -> str | None:
        """The name of the JSON schema asked for, if the request asks for one."""
        response_format = self.body.get("response_format") or {}
        name: str | None = (response_format.get("json_schema") or {}).get("name")
        return name

    @property
    def retry_count(self) -> str | None:
        return self.headers.get("x-stainless-retry-count")


class FakeModel:
    """A local Chat Completions server that does what the test enqueued, in order."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        # The model's second look for a crisis after each coached turn: answered from
        # their own queue ("no crisis" unless a test enqueues otherwise) and kept apart
        # from `requests`, so that a test of the coaching path counts only its own.
        self.crisis_checks: list[RecordedRequest] = []
        self._crisis_answers: deque[bool] = deque()
        # Rewrites of the rolling summary, likewise apart: answered from their own
        # queue (`DEFAULT_SUMMARY` unless a test enqueues otherwise).
        self.summary_requests: list[RecordedRequest] = []
        self._summary_answers: deque[str] = deque()
        # The counselors' quality panel labelling replies: apart too, answered from
        # their own queue (`enqueue_labels`, `enqueue_label_error`); none scripted is
        # an unscripted request.
        self.label_requests: list[RecordedRequest] = []
        self._label_answers: deque[Behaviour] = deque()
        self.unscripted = 0
        # Streams whose client closed the connection before the last chunk was sent.
        self.abandoned_streams = 0
        self._script: deque[Behaviour] = deque()
        # What answers when nothing is scripted (`answer_every_turn`): None, a 500.
        self._standing_stream: Behaviour | None = None
        self._standing_json: Behaviour | None = None
        self._standing_combined: Behaviour | None = None
        # Standing streams open now, and the most that were ever open at once.
        self.open_streams = 0
        self.peak_streams = 0
        self._lock = threading.Lock()
        self._ids = 0
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll
            name="fake-model",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}/v1"

    def start(self) -> FakeModel:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeModel:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def pending(self) -> int:
        """Scripted behaviours no request has used yet."""
        with self._lock:
            return len(self._script)

    @property
    def reply_requests(self) -> list[RecordedRequest]:
        """The requests for a turn's reply (streamed, or whole for a JSON turn)."""
        return [r for r in self.requests if "response_format" not in r.body]

    @property
    def reflection_requests(self) -> list[RecordedRequest]:
        """The structured-output requests: the model reading the reflection record."""
        return [r for r in self.requests if "response_format" in r.body]

    # Scripting -------------------------------------------------------------------

    def enqueue_stream(
        self,
        chunks: list[str],
        usage: tuple[int, int] = (10, 5),
        model: str = "fake-model",
        delay: float = 0.0,
    ) -> None:
        """A streamed reply: one SSE chunk per text, a stop chunk, a usage chunk, [DONE].

        `delay` seconds pass before each chunk, as when a real model is writing. A
        client that closes the connection before the end is counted in
        `abandoned_streams`. A request that is not streamed (a JSON turn) gets the
        same reply as one `chat.completion`, after all the chunks' delays.
        """
        completion_id = self._next_id()
        whole = self._completion("".join(chunks), usage, model, "stop")

        def behave(handler: _Handler) -> None:
            if not handler.seen.streamed:
                time.sleep(delay * len(chunks))
                whole(handler)
                return
            handler.start_stream()
            try:
                for event in _chunk_events(completion_id, model, chunks):
                    time.sleep(delay)
                    handler.send_event(event)
                handler.send_event(_usage_event(completion_id, model, usage))
                handler.send_event("[DONE]")
                handler.end_stream()
            except (BrokenPipeError, ConnectionResetError):
                with self._lock:
                    self.abandoned_streams += 1

        self._enqueue(behave)

    def enqueue_broken_stream(self, chunks: list[str], model: str = "fake-model") -> None:
        """A streamed reply that sends these texts, then drops the connection mid-body
        (asked for a whole reply, it drops the connection before answering)."""
        completion_id = self._next_id()

        def behave(handler: _Handler) -> None:
            if not handler.seen.streamed:
                handler.drop_connection()
                return
            handler.start_stream()
            for event in _chunk_events(completion_id, model, chunks, finish=False):
                handler.send_event(event)
            handler.drop_connection()

        self._enqueue(behave)

    def enqueue_cut_stream(self, chunks: list[str], model: str = "fake-model") -> None:
        """A streamed reply whose body ends cleanly after these texts, with no finish
        reason and no [DONE]: an upstream that closed the connection early (asked for
        a whole reply, the texts come with no finish reason)."""
        completion_id = self._next_id()
        cut = self._completion("".join(chunks), (10, 5), model, None)

        def behave(handler: _Handler) -> None:
            if not handler.seen.streamed:
                cut(handler)
                return
            handler.start_stream()
            for event in _chunk_events(completion_id, model, chunks, finish=False):
                handler.send_event(event)
            handler.end_stream()

        self._enqueue(behave)

    def enqueue_json(
        self,
        content: str,
        usage: tuple[int, int] = (20, 10),
        model: str = "fake-model",
        finish_reason: str | None = "stop",
    ) -> None:
        """A whole (non-streamed) `chat.completion` whose message is `content`."""
        self._enqueue(self._completion(content, usage, model, finish_reason))

    def enqueue_crisis_check(self, crisis: bool) -> None:
        """The answer to the next crisis check (see `crisis_checks`)."""
        with self._lock:
            self._crisis_answers.append(crisis)

    def enqueue_summary(self, summary: str | None = None, *, raw: str | None = None) -> None:
        """The answer to the next summary rewrite: a summary, or `raw` content as is."""
        content = raw if raw is not None else json.dumps({"summary": summary})
        with self._lock:
            self._summary_answers.append(content)

    def enqueue_labels(
        self, labels: list[dict[str, Any]] | None = None, *, raw: str | None = None
    ) -> None:
        """The answer to the next labelling request: `{"labels": labels}`, or `raw`
        content as is (a garbled answer)."""
        content = raw if raw is not None else json.dumps({"labels": labels or []})
        answer = self._completion(content, (80, 30), "fake-model", "stop")
        with self._lock:
            self._label_answers.append(answer)

    def enqueue_label_error(self, status: int, message: str = "Labels failed.") -> None:
        """An error answer to the next labelling request."""
        with self._lock:
            self._label_answers.append(_error(status, message, None, None))

    def _completion(
        self, content: str, usage: tuple[int, int], model: str, finish_reason: str | None
    ) -> Behaviour:
        completion_id = self._next_id()

        def behave(handler: _Handler) -> None:
            handler.send_json(
                200,
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": finish_reason,
                        }
                    ],
                    "usage": _usage(usage),
                },
            )

        return behave

    def enqueue_error(
        self,
        status: int,
        message: str = "The fake model was told to fail.",
        error_type: str | None = None,
        code: str | None = None,
    ) -> None:
        """An error answer with the usual OpenAI error body."""
        self._enqueue(_error(status, message, error_type, code))

    def answer_every_turn(self, chunks: list[str], delay: float, record: str) -> None:
        """From now on, when nothing is scripted, every streamed request gets these
        chunks (`delay` seconds before each) and every other request `record`: for
        load tests, whose many turns interleave in no predictable order. They count
        how many of these streams are open at once (`peak_streams`)."""
        completion_id = self._next_id()
        whole = self._completion("".join(chunks), (10, 5), "fake-model", "stop")

        def stream(handler: _Handler) -> None:
            with self._lock:
                self.open_streams += 1
                self.peak_streams = max(self.peak_streams, self.open_streams)
            try:
                if not handler.seen.streamed:
                    time.sleep(delay * len(chunks))
                    whole(handler)
                    return
                handler.start_stream()
                for event in _chunk_events(completion_id, "fake-model", chunks):
                    time.sleep(delay)
                    handler.send_event(event)
                handler.send_event(_usage_event(completion_id, "fake-model", (10, 5)))
                handler.send_event("[DONE]")
                handler.end_stream()
            finally:
                with self._lock:
                    self.open_streams -= 1

        answer = self._completion(record, (20, 10), "fake-model", "stop")
        # The combined request gets the same reading, with a summary beside it.
        combined = json.dumps({"reading": json.loads(record), "summary": DEFAULT_SUMMARY})
        combined_answer = self._completion(combined, (20, 10), "fake-model", "stop")
        with self._lock:
            self._standing_stream = stream
            self._standing_json = answer
            self._standing_combined = combined_answer

    # The server's side -------------------------------------------------------------

    def _enqueue(self, behaviour: Behaviour) -> None:
        with self._lock:
            self._script.append(behaviour)

    def _next_id(self) -> str:
        with self._lock:
            self._ids += 1
            return f"chatcmpl-fake-{self._ids}"

    def _take(self, request: RecordedRequest) -> Behaviour | None:
        if request.schema_name == CRISIS_CHECK:
            with self._lock:
                self.crisis_checks.append(request)
                crisis = self._crisis_answers.popleft() if self._crisis_answers else False
            return self._completion(json.dumps({"crisis": crisis}), (30, 5), "fake-model", "stop")
        if request.schema_name == SUMMARY:
            with self._lock:
                self.summary_requests.append(request)
                default = json.dumps({"summary": DEFAULT_SUMMARY})
                content = self._summary_answers.popleft() if self._summary_answers else default
            return self._completion(content, (60, 40), "fake-model", "stop")
        if request.schema_name == LABELS:
            with self._lock:
                self.label_requests.append(request)
                if self._label_answers:
                    return self._label_answers.popleft()
                self.unscripted += 1
                return None
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.popleft()
            # A turn's reply (streamed, or whole for a JSON turn); else the record's reading.
            is_reply = request.streamed or "response_format" not in request.body
            standing = self._standing_stream if is_reply else self._standing_json
            if request.schema_name == COMBINED and standing is not None:
                standing = self._standing_combined
            if standing is not None:
                return standing
            self.unscripted += 1
            return None


def _error(status: int, message: str, error_type: str | None, code: str | None) -> Behaviour:
    """An error answer with the usual OpenAI error body."""
    kind = error_type or ERROR_TYPES.get(status, "server_error")

    def behave(handler: _Handler) -> None:
        handler.send_json(
            status, {"error": {"message": message, "type": kind, "code": code or kind}}
        )

    return behave


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Load tests open dozens of streams at once: a short backlog would drop their
    # connections and add a second's retry to each.
    request_queue_size = 256

    def __init__(self, fake: FakeModel) -> None:
        super().__init__((HOST, 0), _Handler)  # port 0: any free port
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    seen: RecordedRequest  # the request being answered

    def do_POST(self) -> None:
        self.close_connection = True
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fake = self.server.fake
        if self.path.rstrip("/") != "/v1/chat/completions":
            self.send_json(404, {"error": {"message": f"fake model: no route {self.path}"}})
            return
        request = RecordedRequest(
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=json.loads(raw or b"{}"),
        )
        self.seen = request
        behaviour = fake._take(request)
        if behaviour is None:
            self.send_json(
                500,
                {
                    "error": {
                        "message": "fake model: no scripted reply left for this request",
                        "type": "server_error",
                        "code": "unscripted",
                    }
                },
            )
            return
        behaviour(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""

    def send_json(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

    def send_event(self, data: str) -> None:
        payload = f"data: {data}\n\n".encode()
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def drop_connection(self) -> None:
        """Cut the connection without the closing chunk: the body is left unfinished."""
        self.connection.shutdown(socket.SHUT_RDWR)


def _chunk_events(
    completion_id: str, model: str, chunks: list[str], *, finish: bool = True
) -> Iterator[str]:
    created = int(time.time())

    def chunk(delta: dict[str, Any], finish_reason: str | None) -> str:
        return json.dumps(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }
        )

    for position, text in enumerate(chunks):
        delta = {"role": "assistant", "content": text} if position == 0 else {"content": text}
        yield chunk(delta, None)
    if finish:
        yield chunk({}, "stop")


def _usage_event(completion_id: str, model: str, usage: tuple[int, int]) -> str:
    return json.dumps(
        {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [],
            "usage": _usage(usage),
        }
    )


def _usage(usage: tuple[int, int]) -> dict[str, int]:
    prompt_tokens, completion_tokens = usage
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
