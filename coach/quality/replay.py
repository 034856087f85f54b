"""A local OpenAI-compatible server (Chat Completions) that answers the app's model
calls from the cassettes, so that the suite runs the real `openai` client path
offline, over real HTTP.

The driver tells it which case and turn is being held (`at`); each request is
keyed (`cassettes.request_key`) and answered in one of three modes:

- `replay`: the recording with that key, streamed when the request streams. A
  request with no recording gets a 404 and is kept in `misses`, which names the
  case, the turn and the purpose: the run fails and says so.
- `rekey`: as replay, but a request with no recording takes the hand-written call
  in the same place (turn, purpose, order) and moves it to the new key; calls of
  a purpose with a stock answer are added where none is written. A recorded
  cassette is never re-keyed: its miss stays a miss.
- `record`: every request goes on to the real model (`upstream`), and its answer
  is served and kept as the case's recorded call. Only the answer's text and the
  request's hash are kept: no header, no key.

It serves from a thread of its own; `close` stops it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from coach.quality.cassettes import (
    STOCK_ANSWERS,
    Call,
    Cassette,
    Turn,
    request_key,
    request_purpose,
)

Mode = Literal["replay", "rekey", "record"]
HOST = "127.0.0.1"
CHUNK_CHARS = 40
# Asks the real model for a whole answer (the request without its streaming options).
Upstream = Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Served:
    """One request and what answered it (None: nothing did)."""

    case: str
    turn: Turn
    purpose: str
    body: dict[str, Any]
    call: Call | None

    @property
    def system_prompt(self) -> str:
        messages = self.body.get("messages") or [{}]
        return str(messages[0].get("content", "")) if messages[0].get("role") == "system" else ""


@dataclass
class Rekeyed:
    """What `--rekey` changed: the cases whose requests changed, and how."""

    moved: dict[str, int] = field(default_factory=dict)
    stocked: dict[str, int] = field(default_factory=dict)

    def count(self, table: dict[str, int], case: str) -> None:
        table[case] = table.get(case, 0) + 1


class ReplayServer:
    """The cassettes behind an OpenAI-compatible endpoint on 127.0.0.1."""

    def __init__(
        self,
        cassettes: dict[str, Cassette],
        mode: Mode = "replay",
        *,
        model: str,
        upstream: Upstream | None = None,
    ) -> None:
        if mode == "record" and upstream is None:
            raise ValueError("recording needs the real model to ask")
        self.cassettes = cassettes
        self.mode = mode
        self.model = model
        self.upstream = upstream
        self.served: list[Served] = []
        self.misses: list[Served] = []
        self.rekeyed = Rekeyed()
        self.touched: set[str] = set()  # cases whose cassette changed in this run
        self._case = ""
        self._turn: Turn = 1
        self._places: dict[tuple[Turn, str], int] = {}
        self._lock = threading.Lock()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="coach-eval-replay",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}/v1"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def at(self, case: str, turn: Turn) -> None:
        """The calls from now on belong to this case's turn."""
        with self._lock:
            if case != self._case:
                self._places = {}
                if self.mode == "record":
                    self.cassettes[case] = Cassette(case, "recorded", self.model)
                    self.touched.add(case)
            self._case, self._turn = case, turn

    def served_in(self, case: str, turn: Turn) -> list[Served]:
        with self._lock:
            return [s for s in self.served if s.case == case and s.turn == turn]

    def answer(self, body: dict[str, Any]) -> Call | None:
        """The call that answers this request, by the mode's rule; None for a miss."""
        key = request_key(body)
        purpose = request_purpose(body)
        with self._lock:
            case, turn = self._case, self._turn
            place = self._places.get((turn, purpose), 0)
            self._places[(turn, purpose)] = place + 1
        call: Call | None
        if self.mode == "record":
            call = self._record(case, turn, purpose, key, body)
        else:
            call = self._replay(case, turn, purpose, key, place)
        served = Served(case, turn, purpose, body, call)
        with self._lock:
            self.served.append(served)
            if call is None:
                self.misses.append(served)
        return call

    def _replay(self, case: str, turn: Turn, purpose: str, key: str, place: int) -> Call | None:
        cassette = self.cassettes.get(case)
        if cassette is None:
            if self.mode != "rekey":
                return None
            cassette = self.cassettes[case] = Cassette(case, "hand-written", self.model)
        found = cassette.by_key(key)
        if found is not None or self.mode != "rekey" or cassette.source == "recorded":
            return found
        with self._lock:
            slot = cassette.slot(turn, purpose, place)
            self.touched.add(case)
            if slot is not None:
                self.rekeyed.count(self.rekeyed.moved, case)
                return cassette.rekeyed(slot, key)
            if purpose in STOCK_ANSWERS:
                stock = Call(turn, purpose, key, STOCK_ANSWERS[purpose], note="stock answer")
                cassette.calls.append(stock)
                self.rekeyed.count(self.rekeyed.stocked, case)
                return stock
        return None

    def _record(self, case: str, turn: Turn, purpose: str, key: str, body: dict[str, Any]) -> Call:
        assert self.upstream is not None
        text = self.upstream(body)
        call = Call(turn, purpose, key, text)
        with self._lock:
            self.cassettes[case].calls.append(call)
        return call


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, replay: ReplayServer) -> None:
        super().__init__((HOST, 0), _Handler)
        self.replay = replay


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        self.close_connection = True
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}") if length else {}
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._json(404, _error(f"no route {self.path}", "not_found"))
            return
        replay = self.server.replay
        try:
            call = replay.answer(body)
        except Exception as exc:  # the real model failed while recording
            self._json(502, _error(f"the real model failed: {type(exc).__name__}", "upstream"))
            return
        if call is None:
            self._json(
                404,
                _error(
                    f"no recording for case {replay._case!r}, turn {replay._turn!r}, "
                    f"{request_purpose(body)} (key {request_key(body)})",
                    "no_recording",
                ),
            )
            return
        model = str(body.get("model") or replay.model)
        if body.get("stream"):
            self._stream(call.text, model)
        else:
            self._json(200, _completion(call.text, model))

    def log_message(self, format: str, *args: Any) -> None:
        """The suite prints its own report; no access log."""

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(raw)

    def _stream(self, text: str, model: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        created = int(time.time())
        pieces = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]
        for position, piece in enumerate(pieces):
            delta = {"content": piece} | ({"role": "assistant"} if position == 0 else {})
            self._event(_chunk(model, created, [_choice(delta, None)]))
        self._event(_chunk(model, created, [_choice({}, "stop")]))
        self._event(_chunk(model, created, [], usage=_usage(text)))
        self._event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _event(self, data: dict[str, Any] | str) -> None:
        line = data if isinstance(data, str) else json.dumps(data)
        payload = f"data: {line}\n\n".encode()
        self.wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": f"coach eval replay: {message}", "type": code, "code": code}}


def _usage(text: str) -> dict[str, int]:
    # A stand-in count (words), so that stored replies carry token counts as live ones do.
    completion = len(text.split())
    return {"prompt_tokens": 0, "completion_tokens": completion, "total_tokens": completion}


def _choice(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "finish_reason": finish}


def _chunk(
    model: str, created: int, choices: list[dict[str, Any]], usage: dict[str, int] | None = None
) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": "chatcmpl-replay",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": choices,
    }
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-replay",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(text),
    }
