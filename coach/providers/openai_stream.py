"""Reading a chat completion's Server-Sent Events stream ourselves.

The `openai` client parses each of a reply's chunks into pydantic objects, a few
hundred microseconds a chunk, ten times what reading the stream and parsing its
JSON costs (`benchmarks/relay_cpu.py`). The provider keeps the client as its
transport (connections, headers, status errors mapped to `openai` exceptions) and
reads the raw response's lines here: the `data:` fields of each event, joined as
the SSE format says, up to `[DONE]`; comments and other fields are skipped.

A `data:` payload that carries an `error` (a provider that fails mid-stream says so
this way) raises `StreamFailed`; a payload that is not JSON raises `ValueError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

DONE = "[DONE]"


class StreamFailed(Exception):
    """The server reported an error inside the stream."""


def event_data(lines: Iterable[str]) -> Iterator[str]:
    """The data of each event in an SSE stream, up to `[DONE]` (not included).

    An event is the `data:` lines before a blank line, joined by newlines; a line
    that starts with a colon is a comment (a keep-alive), and other fields (`event:`,
    `id:`, `retry:`) say nothing a chat completion needs."""
    data: list[str] = []
    for line in lines:
        if line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)
            continue
        if line or not data:
            continue  # a comment or another field; or a blank line with no event before it
        payload = "\n".join(data) if len(data) > 1 else data[0]
        data = []
        if payload == DONE:
            return
        yield payload
    if data:
        # The stream ended without the blank line after its last event.
        payload = "\n".join(data)
        if payload != DONE:
            yield payload


@dataclass
class StreamedReply:
    """What a stream said besides its text: the model, token usage, and whether a
    choice finished (a reply without a finish reason was cut)."""

    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finished: bool = False


def reply_texts(lines: Iterable[str], seen: StreamedReply) -> Iterator[str]:
    """The text deltas of a streamed chat completion, noting the rest on `seen`."""
    for payload in event_data(lines):
        chunk = json.loads(payload)
        if not isinstance(chunk, dict):
            raise ValueError("a stream chunk that is not a JSON object")
        if chunk.get("error"):
            raise StreamFailed(_error_message(chunk["error"]))
        model = chunk.get("model")
        if model:
            seen.model = model
        usage = chunk.get("usage")
        if usage:
            seen.prompt_tokens = usage.get("prompt_tokens")
            seen.completion_tokens = usage.get("completion_tokens")
        for choice in chunk.get("choices") or ():
            if choice.get("finish_reason") is not None:
                seen.finished = True
            delta = choice.get("delta")
            text = delta.get("content") if delta else None
            if text:
                yield text


def _error_message(error: object) -> str:
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) and message else "an error during streaming"
