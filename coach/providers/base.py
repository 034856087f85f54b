"""The small interface every provider implements, and the record of one reply."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

from coach.conversation import ChatTurn, TurnPrompt
from coach.errors import ModelUnavailable
from coach.reflection import ReflectionRecord


class ReplyInterrupted(ModelUnavailable):
    """The reply broke off after some text had already been sent on."""

    code = "reply_interrupted"


@dataclass
class Completion:
    """What one reply produced: its text so far, the model, token usage and timing."""

    model: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    parts: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def latency_ms(self) -> int:
        end = self.finished if self.finished is not None else time.monotonic()
        return round((end - self.started) * 1000)


class Provider(ABC):
    name: str
    model_name: str

    @abstractmethod
    def stream_reply(self, prompt: TurnPrompt, completion: Completion) -> Iterator[str]:
        """Yield the reply's text as it comes, recording usage on `completion`.

        Raises `ModelUnavailable` when no text could be produced, and
        `ReplyInterrupted` when the reply breaks off after text was yielded.
        """

    def extract_reflection(
        self, record: ReflectionRecord, turns: list[ChatTurn]
    ) -> ReflectionRecord | None:
        """What a model reads from the turns, or None where the keyword rules must do."""
        return None
