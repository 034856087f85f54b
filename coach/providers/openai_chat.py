"""The `openai` provider: the official client against any OpenAI-compatible endpoint.

The client's own retries are off (`max_retries=0`) and `tenacity` retries only
the opening of a reply, and only on rate limits, timeouts, connection errors and
5xx: once text has reached the seeker a stream is never retried. The reflection
record is asked for as structured output (a JSON schema: additions and removals,
`RecordReading`), validated with pydantic, with one repair attempt; a server that
does not honour JSON schemas leaves the record to the keyword rules, and says so
once in the log. The counselors' strategy labels (`label_replies`) are asked for the
same way, with the schema and its reading given by `coach.counsel.labelling`.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Generator
from typing import Any, TypeVar

import openai
from flask import Flask
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from coach.errors import ConfigurationError, ModelUnavailable
from coach.guide.record import ReflectionRecord
from coach.guide.record_reading import RecordReading
from coach.providers.base import (
    ChatPrompt,
    ChatTurn,
    Completion,
    Provider,
    ReplyInterrupted,
    StructuredOutputUnfit,
)

log = logging.getLogger(__name__)
Parsed = TypeVar("Parsed")

REFLECTION_MAX_TOKENS = 800
CRISIS_CHECK_MAX_TOKENS = 50
SUMMARY_MAX_TOKENS = 700
# A reply's label is a short JSON object (about 30 tokens); room to spare for each, so
# that a model that spaces its JSON out is not cut off mid-answer.
LABEL_TOKENS_PER_REPLY = 60
LABEL_TOKENS_BASE = 50


class WrittenSummary(BaseModel):
    """The model's rewrite of the rolling summary."""

    model_config = ConfigDict(extra="forbid")
    summary: str = Field(min_length=1)


class CrisisCheck(BaseModel):
    """The model's answer to the safety second check."""

    model_config = ConfigDict(extra="forbid")
    crisis: bool


@functools.cache
def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A structured answer's JSON schema, built once per model class, not per request
    (pydantic builds it afresh on every call, a few milliseconds each)."""
    return model.model_json_schema()


def is_transient(exc: BaseException) -> bool:
    """Worth another attempt: rate limits, timeouts, lost connections and 5xx only."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
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
    if isinstance(exc, openai.APITimeoutError):
        return ModelUnavailable("The AI model took too long to answer. Try again.")
    if isinstance(exc, openai.APIConnectionError):
        return ModelUnavailable("The AI model could not be reached. Try again.")
    if isinstance(exc, openai.APIStatusError):
        return ModelUnavailable(
            f"The AI model answered with an error ({exc.status_code}).",
            retryable=is_transient(exc),
        )
    return ModelUnavailable("The AI model failed to answer.", retryable=False)


class OpenAIProvider(Provider[ChatPrompt]):
    name = "openai"
    prompt_type = ChatPrompt
    uses_model = True
    refines_record = True
    screens_for_crisis = True
    structured_output = True
    writes_summary = True
    labels_replies = True

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        model: str,
        timeout: float,
        attempts: int,
        max_reply_tokens: int,
    ) -> None:
        self.model_name = model
        self.max_reply_tokens = max_reply_tokens
        self.client = openai.OpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )
        self.attempts = attempts
        # Switched off for good once the server refuses a JSON schema request.
        self.honours_json_schema = True
        self._logged_reasons: set[str] = set()
        self._log_lock = threading.Lock()

    @classmethod
    def from_app(cls, app: Flask) -> OpenAIProvider:
        if not app.config.get("OPENAI_API_KEY"):
            raise ConfigurationError("COACH_PROVIDER=openai needs OPENAI_API_KEY")
        return cls(
            api_key=app.config["OPENAI_API_KEY"],
            base_url=app.config["OPENAI_BASE_URL"],
            model=app.config["COACH_MODEL"],
            timeout=app.config["COACH_MODEL_TIMEOUT"],
            attempts=app.config["COACH_MODEL_ATTEMPTS"],
            max_reply_tokens=app.config["COACH_MAX_REPLY_TOKENS"],
        )

    def _retrying(self) -> Retrying:
        return Retrying(
            retry=retry_if_exception(is_transient),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=0.2, max=4),
            reraise=True,
        )

    def _call(self, **params: Any) -> Any:
        try:
            return self._retrying()(self.client.chat.completions.create, **params)
        except (openai.OpenAIError, RetryError) as exc:
            raise describe_failure(exc) from exc

    def stream_reply(
        self, prompt: ChatPrompt, completion: Completion
    ) -> Generator[str, None, None]:
        completion.model = self.model_name
        stream = self._call(
            model=self.model_name,
            messages=prompt.chat_messages(),
            # A bound the model cannot talk its way past; the prompt asks for short turns.
            max_tokens=self.max_reply_tokens,
            stream=True,
            stream_options={"include_usage": True},
        )
        yielded = finished = False
        try:
            with stream:
                for chunk in stream:
                    if chunk.model:
                        completion.model = chunk.model
                    if chunk.usage:
                        completion.prompt_tokens = chunk.usage.prompt_tokens
                        completion.completion_tokens = chunk.usage.completion_tokens
                    for choice in chunk.choices:
                        finished = finished or choice.finish_reason is not None
                        text = choice.delta.content if choice.delta else None
                        if text:
                            yielded = True
                            yield text
        except (openai.OpenAIError, ValueError) as exc:
            # httpx2 errors surface wrapped by the client; a half-read SSE line may
            # fail to parse. Either way the stream is over and is not retried.
            failure = describe_failure(exc)
            if yielded:
                raise ReplyInterrupted(
                    "The AI model's reply broke off part-way. Try again."
                ) from exc
            raise failure from exc
        if not yielded:
            raise ModelUnavailable("The AI model sent an empty reply.", code="empty_reply")
        if not finished:
            # The connection closed cleanly but the model never said it was done: the
            # text is cut, and must not be kept (or read back later) as a whole reply.
            raise ReplyInterrupted("The AI model's reply broke off part-way. Try again.")

    def extract_reflection(
        self, instructions: str, record: ReflectionRecord, turns: list[ChatTurn]
    ) -> RecordReading | None:
        transcript = "\n".join(f"{t.role}: {t.content}" for t in turns)
        current = json.dumps(record.model_dump(mode="json"), ensure_ascii=False)
        try:
            return self.complete_structured(
                instructions,
                f"The record so far:\n{current}\n\nThe conversation, oldest first:\n{transcript}",
                name="reflection_record",
                schema=json_schema(RecordReading),
                parse=lambda text: RecordReading.model_validate(json.loads(text)),
                max_tokens=REFLECTION_MAX_TOKENS,
            )
        except StructuredOutputUnfit:
            self._fall_back_once("its replies did not fit the schema, even after a repair attempt")
            return None

    def complete_structured(
        self,
        instructions: str,
        content: str,
        *,
        name: str,
        schema: dict[str, Any],
        parse: Callable[[str], Parsed],
        max_tokens: int,
    ) -> Parsed | None:
        if not self.honours_json_schema:
            return None
        messages: list[dict[str, str]] = [
            {"role": "system", "content": instructions},
            {"role": "user", "content": content},
        ]
        for attempt in range(2):  # the answer, then one repair attempt
            try:
                response = self._call(
                    model=self.model_name,
                    messages=messages,
                    max_tokens=max_tokens,
                    response_format={
                        "type": "json_schema",
                        "json_schema": {"name": name, "schema": schema},
                    },
                )
            except ModelUnavailable as exc:
                if _rejects_json_schema(exc.__cause__):
                    # The server refuses `response_format`; asking again is pointless.
                    self.honours_json_schema = False
                    self._fall_back_once("the server rejected the JSON schema request")
                    return None
                raise
            answer = response.choices[0].message.content or ""
            try:
                return parse(answer)
            except ValueError as exc:  # pydantic's ValidationError and JSON errors alike
                if attempt == 0:
                    messages += [
                        {"role": "assistant", "content": answer},
                        {
                            "role": "user",
                            "content": "That did not fit the schema "
                            f"({str(exc)[:300]}). Reply with corrected JSON only.",
                        },
                    ]
        raise StructuredOutputUnfit(
            "The AI model's answer did not fit the expected shape, even after a repair attempt."
        )

    def check_for_crisis(self, instructions: str, messages: list[str]) -> bool | None:
        if not self.honours_json_schema:
            return None
        said = "\n".join(f"- {text}" for text in messages)
        response = self._call(
            model=self.model_name,
            messages=[
                {"role": "system", "content": instructions},
                {"role": "user", "content": said},
            ],
            max_tokens=CRISIS_CHECK_MAX_TOKENS,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "crisis_check", "schema": json_schema(CrisisCheck)},
            },
        )
        try:
            return CrisisCheck.model_validate_json(response.choices[0].message.content or "").crisis
        except ValidationError:
            return None

    def write_summary(self, instructions: str, summary: str, turns: list[ChatTurn]) -> str | None:
        if not self.honours_json_schema:
            return None
        transcript = "\n".join(f"{t.role}: {t.content}" for t in turns)
        response = self._call(
            model=self.model_name,
            messages=[
                {"role": "system", "content": instructions},
                {
                    "role": "user",
                    "content": f"The summary so far:\n{summary}\n\n"
                    f"The most recent of its turns in full, oldest first:\n{transcript}",
                },
            ],
            max_tokens=SUMMARY_MAX_TOKENS,
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": "rolling_summary",
                    "schema": json_schema(WrittenSummary),
                },
            },
        )
        try:
            content = response.choices[0].message.content or ""
            return WrittenSummary.model_validate_json(content).summary.strip() or None
        except ValidationError:
            return None

    def label_replies(
        self,
        instructions: str,
        replies: str,
        *,
        schema: dict[str, Any],
        parse: Callable[[str], Parsed],
        count: int,
    ) -> Parsed | None:
        return self.complete_structured(
            instructions,
            replies,
            name="strategy_labels",
            schema=schema,
            parse=parse,
            max_tokens=LABEL_TOKENS_BASE + LABEL_TOKENS_PER_REPLY * count,
        )

    def _fall_back_once(self, reason: str) -> None:
        with self._log_lock:  # background workers may fall back at the same moment
            if reason in self._logged_reasons:
                return
            self._logged_reasons.add(reason)
        log.warning(
            "Reflection record from the keyword rules (and plans from the templates)"
            " instead of the model: %s.",
            reason,
        )


def _rejects_json_schema(exc: BaseException | None) -> bool:
    """A 400 about `response_format` itself, not about, say, the context length."""
    if not isinstance(exc, openai.BadRequestError):
        return False
    mentions = f"{getattr(exc, 'param', '')} {exc.message}".lower()
    return any(word in mentions for word in ("response_format", "json_schema", "schema"))
