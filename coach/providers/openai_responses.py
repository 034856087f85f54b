"""What comes back from an OpenAI-compatible endpoint, as the `openai` provider
(`coach.providers.openai_chat`) reads it: a whole (not streamed) answer, a stream
cut from another thread than the one reading it, and failures described for the
seeker (which of them are worth another attempt, and whether the server refuses
JSON schemas). A stream's events are read by `coach.providers.openai_stream`.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass

import httpx2
import openai

from coach.errors import ModelUnavailable


def is_transient(exc: BaseException) -> bool:
    """Worth another attempt: rate limits, timeouts, lost connections and 5xx only."""
    if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):  # timeouts too
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def describe_failure(exc: BaseException) -> ModelUnavailable:
    """A message for the seeker that says what went wrong without leaking secrets."""
    if isinstance(exc, openai.AuthenticationError):
        return ModelUnavailable(
            "The AI model refused our credentials (401). Check OPENAI_API_KEY.",
            retryable=False,
            code="model_auth_failed",
        )
    if isinstance(exc, openai.RateLimitError):
        return ModelUnavailable("The AI model is busy right now (rate limited). Try again soon.")
    if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
        return ModelUnavailable("The AI model took too long to answer. Try again.")
    if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
        return ModelUnavailable("The AI model could not be reached. Try again.")
    if isinstance(exc, openai.APIStatusError):
        return ModelUnavailable(
            f"The AI model answered with an error ({exc.status_code}).",
            retryable=is_transient(exc),
        )
    return ModelUnavailable("The AI model failed to answer.", retryable=False)


@dataclass(frozen=True)
class WholeAnswer:
    """A chat completion that was not streamed, as far as the coach reads it."""

    text: str
    finish_reason: str | None
    model: str | None
    prompt_tokens: int | None
    completion_tokens: int | None


def cut_connection(response: httpx2.Response) -> None:
    """End a streamed response's connection from another thread than the one reading
    it: the reader's wait ends at once (the stream is cut), and the server sees the
    connection closed. Shutting the socket down is safe across threads; closing the
    response there would not be."""
    network_stream = response.extensions.get("network_stream")
    connection = network_stream.get_extra_info("socket") if network_stream else None
    if isinstance(connection, socket.socket):
        with contextlib.suppress(OSError):  # closed already
            connection.shutdown(socket.SHUT_RDWR)


def read_answer(response: httpx2.Response) -> WholeAnswer:
    """The parts of a whole answer the coach uses; one it cannot read is a failure."""
    try:
        answer = response.json()
        choice = answer["choices"][0]
        usage = answer.get("usage") or {}
        return WholeAnswer(
            text=str(choice["message"].get("content") or ""),
            finish_reason=choice.get("finish_reason"),
            model=answer.get("model"),
            prompt_tokens=usage.get("prompt_tokens"),
            completion_tokens=usage.get("completion_tokens"),
        )
    except (ValueError, LookupError, TypeError, AttributeError) as exc:
        raise ModelUnavailable("The AI model's answer could not be read.", retryable=False) from exc


def rejects_json_schema(exc: BaseException | None) -> bool:
    """A 400 about `response_format` itself, not about, say, the context length."""
    if not isinstance(exc, openai.BadRequestError):
        return False
    mentions = f"{getattr(exc, 'param', '')} {exc.message}".lower()
    return any(word in mentions for word in ("response_format", "json_schema", "schema"))
