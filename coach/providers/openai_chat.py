"""The `openai` provider: the official client against any OpenAI-compatible endpoint.

The client's own retries are off (`max_retries=0`) and `tenacity` retries only
the opening of a reply, and only on rate limits, timeouts, connection errors and
5xx: once text has reached the seeker a stream is never retried. A JSON turn's
reply, which nobody reads before its end, is asked for whole (`whole_reply`), so
retrying it is retrying its opening. A stream the seeker walked away from is cut
from the thread that saw them go (`OpenRequest`). The client is the
transport (its connection pool, headers and error mapping): requests go through
its `post` with plain JSON bodies, and answers are read as JSON, a stream by
`coach.providers.openai_stream`, because the client's typed parameters and
pydantic chunks cost more CPU than the rest of a turn's relay together. The reflection
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

import httpx2
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
from coach.providers.openai_responses import (
    cut_connection,
    describe_failure,
    is_transient,
    read_answer,
    rejects_json_schema,
)
from coach.providers.openai_stream import StreamedReply, StreamFailed, reply_texts

log = logging.getLogger(__name__)
Parsed = TypeVar("Parsed")

REFLECTION_MAX_TOKENS = 800
CRISIS_CHECK_MAX_TOKENS = 50
SUMMARY_MAX_TOKENS = 700
# A reply's label is a short JSON object (about 30 tokens); room to spare for each, so
# that a model that spaces its JSON out is not cut off mid-answer.
LABEL_TOKENS_PER_REPLY = 60
LABEL_TOKENS_BASE = 50
# A model writing slower than this is treated as not answering.
SLOWEST_TOKENS_PER_SECOND = 10


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
        # A stream's timeout runs between chunks; an answer that is not streamed has
        # all of its tokens to write first, at no less than SLOWEST_TOKENS_PER_SECOND.
        self.whole_reply_timeout = timeout + max_reply_tokens / SLOWEST_TOKENS_PER_SECOND
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

    def _post(
        self, body: dict[str, Any], *, stream: bool = False, timeout: float | None = None
    ) -> httpx2.Response:
        """The raw response to a chat completion request, retried while it cannot be
        opened; a streamed one is open and unread, for the caller to close. `timeout`
        replaces the client's for this request."""
        try:
            response: httpx2.Response = self._retrying()(
                self.client.post,
                "/chat/completions",
                cast_to=httpx2.Response,
                body=body,
                stream=stream,
                options={"timeout": timeout} if timeout is not None else {},
            )
        except (openai.OpenAIError, httpx2.HTTPError, RetryError) as exc:
            raise describe_failure(exc) from exc
        return response

    def _answer(self, **body: Any) -> str:
        """The text of a chat completion that is not streamed."""
        return read_answer(self._post({"model": self.model_name, **body})).text

    def whole_reply(self, prompt: ChatPrompt, completion: Completion) -> Generator[str, None, None]:
        """The reply asked for in one answer, not streamed: for a turn whose reply
        nobody reads before its end (a JSON turn). Reading fifty chunks costs the
        turn more CPU than the rest of the request to the model; and with nothing
        shown yet, a lost connection can be retried like a failed opening."""
        completion.model = self.model_name
        response = self._post(
            {
                "model": self.model_name,
                "messages": prompt.chat_messages(),
                "max_tokens": self.max_reply_tokens,
            },
            # The whole reply is written before the first byte comes back.
            timeout=self.whole_reply_timeout,
        )
        answer = read_answer(response)
        completion.model = answer.model or completion.model
        completion.prompt_tokens = answer.prompt_tokens
        completion.completion_tokens = answer.completion_tokens
        if not answer.text:
            raise ModelUnavailable("The AI model sent an empty reply.", code="empty_reply")
        if answer.finish_reason is None:
            # As with a stream that never said it was done: the text may be cut, and
            # must not be kept as a whole reply.
            raise ReplyInterrupted("The AI model's reply broke off part-way. Try again.")
        yield answer.text

    def stream_reply(
        self, prompt: ChatPrompt, completion: Completion
    ) -> Generator[str, None, None]:
        completion.model = self.model_name
        response = self._post(
            {
                "model": self.model_name,
                "messages": prompt.chat_messages(),
                # A bound the model cannot talk its way past; the prompt asks for short turns.
                "max_tokens": self.max_reply_tokens,
                "stream": True,
                "stream_options": {"include_usage": True},
            },
            stream=True,
        )
        seen = StreamedReply()
        yielded = False
        completion.request.opened(lambda: cut_connection(response))
        lines = response.iter_lines()
        try:
            for text in reply_texts(lines, seen):
                yielded = True
                yield text
            for _rest in lines:
                pass  # after [DONE]: read to the end, so that the connection is reused
        except (httpx2.HTTPError, StreamFailed, ValueError) as exc:
            # A lost connection, an error the server reported mid-stream, or a line
            # that is not JSON: either way the stream is over and is not retried.
            if yielded:
                raise ReplyInterrupted(
                    "The AI model's reply broke off part-way. Try again."
                ) from exc
            raise describe_failure(exc) from exc
        finally:
            # Read to the end, the connection goes back to the pool; closed early (a
            # cancel, the seeker gone), the request to the model ends here.
            completion.request.closed()
            response.close()
            completion.model = seen.model or completion.model
            completion.prompt_tokens = seen.prompt_tokens
            completion.completion_tokens = seen.completion_tokens
        if not yielded:
            raise ModelUnavailable("The AI model sent an empty reply.", code="empty_reply")
        if not seen.finished:
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
                answer = self._answer(
                    messages=messages,
                    max_tokens=max_tokens,
                    response_format={
                        "type": "json_schema",
                        "json_schema": {"name": name, "schema": schema},
                    },
                )
            except ModelUnavailable as exc:
                if rejects_json_schema(exc.__cause__):
                    # The server refuses `response_format`; asking again is pointless.
                    self.honours_json_schema = False
                    self._fall_back_once("the server rejected the JSON schema request")
                    return None
                raise
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
        answer = self._answer(
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
            return CrisisCheck.model_validate_json(answer).crisis
        except ValidationError:
            return None

    def write_summary(self, instructions: str, summary: str, turns: list[ChatTurn]) -> str | None:
        if not self.honours_json_schema:
            return None
        transcript = "\n".join(f"{t.role}: {t.content}" for t in turns)
        answer = self._answer(
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
            return WrittenSummary.model_validate_json(answer).summary.strip() or None
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
