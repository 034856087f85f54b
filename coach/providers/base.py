"""The small interface every provider implements: what it is given (a prompt of the
kind it asks for), what it declares it can do, and the record of one reply.

Coaching code asks a provider's capability attributes, never its name, so that a
new provider is a new module here and one line in `coach.providers.PROVIDERS`.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from flask import Flask

from coach.errors import ModelUnavailable
from coach.guide.move import Move
from coach.guide.record import ReflectionRecord
from coach.guide.record_reading import RecordReading


class ReplyInterrupted(ModelUnavailable):
    """The reply broke off after some text had already been sent on."""

    code = "reply_interrupted"


@dataclass(frozen=True)
class ChatTurn:
    role: str  # "user" or "assistant"
    content: str


@dataclass(frozen=True)
class ChatPrompt:
    """What a chat model is shown: instructions, the recent turns, the new message."""

    system: str
    history: tuple[ChatTurn, ...]
    user_message: str
    # What changes from turn to turn (the record, the dialogue's move), sent just
    # before the new message so that the system prompt and the turns before it stay
    # a repeated beginning that a provider's prompt cache reuses.
    turn_note: str = ""

    def chat_messages(self) -> list[dict[str, str]]:
        note = [{"role": "system", "content": self.turn_note}] if self.turn_note else []
        return [
            {"role": "system", "content": self.system},
            *({"role": t.role, "content": t.content} for t in self.history),
            *note,
            {"role": "user", "content": self.user_message},
        ]


@dataclass(frozen=True)
class GuidedPrompt:
    """What guided mode needs: the record as confirmed and the dialogue's move for
    this turn (what to reflect, propose, offer and ask); no system prompt. The
    seeker's message is here so that it can be left unquoted, never to echo it."""

    user_message: str
    stage: str
    record: ReflectionRecord
    move: Move = field(default_factory=Move)


class StructuredOutputUnfit(ModelUnavailable):
    """The model's structured answer did not fit its schema, even after a repair attempt."""

    code = "structured_output_unfit"


PromptT = TypeVar("PromptT", ChatPrompt, GuidedPrompt)
Parsed = TypeVar("Parsed")


class OpenRequest:
    """A reply's request to the model while it is open, which another thread may cut
    (the seeker gone): the reading thread sees its stream end at once rather than at
    the model's next chunk, and the model sees the connection closed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cut_now: Callable[[], None] | None = None
        self._cut = False

    def opened(self, cut_now: Callable[[], None]) -> None:
        """The provider's request is open; `cut_now` ends it from any thread. A cut
        asked for before the request opened happens now."""
        with self._lock:
            self._cut_now = cut_now
            if not self._cut:
                return
        cut_now()

    def closed(self) -> None:
        """The request is over: nothing left to cut."""
        with self._lock:
            self._cut_now = None

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            cut_now = self._cut_now
        if cut_now is not None:
            cut_now()


@dataclass
class Completion:
    """What one reply produced: its text so far, the model, token usage and timing;
    and its request to the model while that is open."""

    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    parts: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    request: OpenRequest = field(default_factory=OpenRequest)

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def latency_ms(self) -> int:
        end = self.finished if self.finished is not None else time.monotonic()
        return round((end - self.started) * 1000)


class Provider(ABC, Generic[PromptT]):
    """Answers one turn. Subclasses set the class attributes that say what they can do."""

    name: ClassVar[str]
    # The kind of prompt `stream_reply` takes; coaching builds exactly that one.
    prompt_type: ClassVar[type[ChatPrompt] | type[GuidedPrompt]]
    # Whether an AI model writes the replies (the UI labels guided mode otherwise).
    uses_model: ClassVar[bool]
    # Whether `extract_reflection` can read the record from the conversation.
    refines_record: ClassVar[bool] = False
    # Whether `check_for_crisis` can take a second look after the safety rules.
    screens_for_crisis: ClassVar[bool] = False
    # Whether `complete_structured` can answer with JSON that fits a given schema.
    structured_output: ClassVar[bool] = False
    # Whether `write_summary` can rewrite the rolling summary.
    writes_summary: ClassVar[bool] = False
    # Whether `label_replies` can label coach replies for the counselors' quality panel.
    labels_replies: ClassVar[bool] = False
    model_name: str

    @classmethod
    @abstractmethod
    def from_app(cls, app: Flask) -> Provider[Any]:
        """The provider as the app's settings configure it."""

    @abstractmethod
    def stream_reply(self, prompt: PromptT, completion: Completion) -> Generator[str, None, None]:
        """Yield the reply's text as it comes, recording usage on `completion`.

        Raises `ModelUnavailable` when no text could be produced, and
        `ReplyInterrupted` when the reply breaks off after text was yielded.
        Closing the generator early (the seeker stopped the reply) ends whatever
        request it has open.
        """

    def whole_reply(self, prompt: PromptT, completion: Completion) -> Generator[str, None, None]:
        """The reply for a turn that shows nothing before its end (a JSON answer), as
        `stream_reply` yields it; a provider that can be asked for the whole text at
        once, which costs less than reading it in chunks, does so instead."""
        return self.stream_reply(prompt, completion)

    def extract_reflection(
        self, instructions: str, record: ReflectionRecord, turns: list[ChatTurn]
    ) -> RecordReading | None:
        """What a model reads from the current record and the turns (entries to add
        and to remove), or None where the keyword rules must do."""
        return None

    def check_for_crisis(self, instructions: str, messages: list[str]) -> bool | None:
        """Whether the seeker's recent messages suggest a crisis; None when it cannot tell."""
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
        """The model's JSON answer to `content`, fitting `schema` and read by `parse`.

        `parse` raises `ValueError` (pydantic's `ValidationError` is one) for an answer
        that does not fit; the model is shown why and asked once to repair it, then
        `StructuredOutputUnfit` is raised. None where structured output cannot be had
        at all (no model, or a server that refuses JSON schemas)."""

    def write_summary(self, instructions: str, summary: str, turns: list[ChatTurn]) -> str | None:
        """The summary rewritten with these turns; None when the notes must stand."""
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
        """A batch of `count` coach replies labelled in one structured answer that fits
        `schema`, read by `parse` (as `complete_structured`); None where no model can
        label them, and the transparent rules must.

        The labels' vocabulary is the caller's (`coach.counsel`): this area only asks."""
        return None
