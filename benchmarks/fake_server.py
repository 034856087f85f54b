"""A local OpenAI-compatible model for the benchmarks: a set time to the first token,
then a steady token rate, and counters for what the coach asked of it.

Unlike `tests/fake_model.py` (one scripted behaviour per request, for tests), this
answers every request the same way, as a model under load would:

- a streamed request (a reply) waits `first_token_ms`, then sends `reply_tokens`
  chunks at `tokens_per_second`, a stop chunk, a usage chunk and `[DONE]`;
- a non-streamed request without a schema gets the same text as one
  `chat.completion` after the whole stream's time;
- a structured-output request is answered by its schema name (`crisis_check`,
  `rolling_summary`, `reflection_record`, ...) with JSON that fits it, after
  `first_token_ms`.

`usage.prompt_tokens` is estimated from the prompt's characters (four to a token,
as English text runs), since `tiktoken` cannot fetch its encodings here; the coach
stores what `usage` says, as it would from a real provider.

Run it on its own for benchmarks that drive another process (gunicorn):
`python benchmarks/fake_server.py --port 8990 --first-token-ms 300`. `GET /stats`
returns the counters as JSON, and `POST /stats/reset` zeroes them. `POST /pace`
(JSON: any of `first_token_ms`, `tokens_per_second`, `reply_tokens`) changes the
pace of the requests that follow, and `GET /last_reply_request` returns the body of
the last reply request as it arrived, so that a benchmark can send the very same
request directly.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"
CHARS_PER_TOKEN = 4
# How much of a prompt's start counts as its "prefix" when comparing one request with
# the one before: the system prompt and the summary, which a provider's prompt cache
# reuses when they have not changed.
PREFIX_MESSAGES = 2

STRUCTURED_ANSWERS: dict[str, Any] = {
    "crisis_check": {"crisis": False},
    "rolling_summary": {
        "summary": "They are talking through a rejection after a second interview."
    },
    "reflection_record": {},
}


@dataclass
class Pace:
    """How the fake model writes: time to the first token, then tokens a second."""

    first_token_ms: float = 300.0
    tokens_per_second: float = 100.0
    reply_tokens: int = 100

    @property
    def token_gap(self) -> float:
        return 1.0 / self.tokens_per_second if self.tokens_per_second > 0 else 0.0

    def command_line(self) -> list[str]:
        """The options that start `fake_server.py` at this pace (as `main` reads them)."""
        return [f"{_option(name)}={value}" for name, value in vars(self).items()]


def _option(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


@dataclass
class RequestSeen:
    """One request as the fake received it: its kind (`reply` or a schema name), the
    prompt's size and a fingerprint of its prefix (system prompt and summary)."""

    kind: str
    prompt_chars: int
    prompt_tokens: int
    prefix_digest: str
    started: float


@dataclass
class Counters:
    requests: list[RequestSeen] = field(default_factory=list)
    open_streams: int = 0
    peak_streams: int = 0
    # When each abandoned stream noticed its client was gone (monotonic seconds).
    abandoned_at: list[float] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        kinds = Counter(r.kind for r in self.requests)
        return {
            "requests": len(self.requests),
            "by_kind": dict(kinds),
            "prompt_chars": [r.prompt_chars for r in self.requests if r.kind == "reply"],
            "prompt_tokens": [r.prompt_tokens for r in self.requests if r.kind == "reply"],
            "prefix_digests": [r.prefix_digest for r in self.requests if r.kind == "reply"],
            "open_streams": self.open_streams,
            "peak_streams": self.peak_streams,
            "abandoned_at": list(self.abandoned_at),
        }


class FakeServer:
    """The fake model on a free port of 127.0.0.1, served from a daemon thread."""

    def __init__(self, pace: Pace | None = None, port: int = 0) -> None:
        self.pace = pace or Pace()
        self.counters = Counters()
        self.last_reply_request: dict[str, Any] = {}
        self.lock = threading.Lock()
        self._server = _Server((HOST, port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}/v1"

    def start(self) -> FakeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self.lock:
            self.counters = Counters()

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return self.counters.as_json()

    def reply_text(self) -> list[str]:
        """The reply, one piece a token: short words, so that a token is one chunk, in
        sentences of seven tokens, each ended as a model ends one (a stop, a space)."""
        words = ("Thank", " you", " for", " telling", " me", " that", ". ")
        return [words[i % len(words)] for i in range(self.pace.reply_tokens)]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # dozens of streams open at once must not be refused

    def __init__(self, address: tuple[str, int], handler: type[_Handler], fake: FakeServer) -> None:
        super().__init__(address, handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # As real model servers do: a response's headers and its body go out as two
    # writes, and with Nagle's algorithm the body waits for the client's delayed
    # acknowledgement of the headers (40 ms on Linux) on every answer not streamed.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a benchmark prints its own figures."""

    def do_GET(self) -> None:
        if self.path == "/stats":
            self._send_json(200, self.server.fake.stats())
        elif self.path == "/last_reply_request":
            with self.server.fake.lock:
                self._send_json(200, self.server.fake.last_reply_request)
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fake = self.server.fake
        if self.path == "/stats/reset":
            fake.reset()
            self._send_json(200, {"reset": True})
            return
        if self.path == "/pace":
            changes = json.loads(raw or b"{}")
            with fake.lock:
                for name in ("first_token_ms", "tokens_per_second", "reply_tokens"):
                    if name in changes:
                        setattr(fake.pace, name, type(getattr(fake.pace, name))(changes[name]))
            self._send_json(200, {"pace": vars(fake.pace)})
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        body = json.loads(raw or b"{}")
        seen = _seen(body)
        with fake.lock:
            fake.counters.requests.append(seen)
            if seen.kind == "reply":
                fake.last_reply_request = body
        pace = fake.pace
        if seen.kind != "reply":
            time.sleep(pace.first_token_ms / 1000)
            answer = STRUCTURED_ANSWERS.get(seen.kind, {})
            self._send_completion(json.dumps(answer), seen.prompt_tokens, 20)
        elif body.get("stream"):
            self._stream(fake, seen)
        else:
            time.sleep(pace.first_token_ms / 1000 + pace.token_gap * pace.reply_tokens)
            text = "".join(fake.reply_text())
            self._send_completion(text, seen.prompt_tokens, pace.reply_tokens)

    def _stream(self, fake: FakeServer, seen: RequestSeen) -> None:
        pace = fake.pace
        with fake.lock:
            fake.counters.open_streams += 1
            fake.counters.peak_streams = max(fake.counters.peak_streams, fake.counters.open_streams)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            time.sleep(pace.first_token_ms / 1000)
            created = int(time.time())
            for position, piece in enumerate(fake.reply_text()):
                if position:
                    time.sleep(pace.token_gap)
                delta = {"content": piece}
                if position == 0:
                    delta["role"] = "assistant"
                self._event(_chunk(created, {"delta": delta, "finish_reason": None}))
            self._event(_chunk(created, {"delta": {}, "finish_reason": "stop"}))
            usage = _usage(seen.prompt_tokens, pace.reply_tokens)
            self._event(json.dumps({**_envelope(created), "choices": [], "usage": usage}))
            self._event("[DONE]")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            with fake.lock:
                fake.counters.abandoned_at.append(time.monotonic())
            self.close_connection = True
        finally:
            with fake.lock:
                fake.counters.open_streams -= 1

    def _event(self, data: str) -> None:
        payload = f"data: {data}\n\n".encode()
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        self.wfile.flush()

    def _send_completion(self, content: str, prompt_tokens: int, completion_tokens: int) -> None:
        created = int(time.time())
        self._send_json(
            200,
            {
                **_envelope(created),
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": _usage(prompt_tokens, completion_tokens),
            },
        )

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


def _seen(body: dict[str, Any]) -> RequestSeen:
    messages = body.get("messages") or []
    texts = [str(m.get("content") or "") for m in messages]
    prompt_chars = sum(len(t) for t in texts)
    prefix = "\x00".join(texts[:PREFIX_MESSAGES])
    response_format = body.get("response_format") or {}
    schema_name = (response_format.get("json_schema") or {}).get("name")
    return RequestSeen(
        kind=schema_name or "reply",
        prompt_chars=prompt_chars,
        prompt_tokens=max(1, prompt_chars // CHARS_PER_TOKEN),
        prefix_digest=hashlib.sha256(prefix.encode()).hexdigest()[:16],
        started=time.monotonic(),
    )


def _envelope(created: int) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-bench-{created}",
        "object": "chat.completion.chunk",
        "created": created,
        "model": "bench-model",
    }


def _chunk(created: int, choice: dict[str, Any]) -> str:
    return json.dumps({**_envelope(created), "choices": [{"index": 0, **choice}]})


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8990)
    defaults = vars(Pace())
    for name, default in defaults.items():
        parser.add_argument(_option(name), type=type(default), default=default)
    args = parser.parse_args()
    pace = Pace(**{name: getattr(args, name) for name in defaults})
    server = FakeServer(pace, port=args.port).start()
    print(f"fake model at {server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
