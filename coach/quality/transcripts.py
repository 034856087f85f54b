"""What holding one scripted conversation produced: each seeker turn with the coach's
reply, the stage before and after it and the choices offered, and the reflection
record at the end. The driver makes these from the app; tests make them by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coach.quality.cases import Conversation


@dataclass(frozen=True)
class Exchange:
    said: str
    reply: str
    stage_before: str
    stage_after: str
    choices: tuple[str, ...] = ()
    # The kind of safety rule that shaped the reply ("crisis", "distress", ...), if any.
    safety: str | None = None
    # Set when the app did not answer the turn with a reply (its status and error).
    error: str | None = None


@dataclass
class Transcript:
    conversation: Conversation
    exchanges: list[Exchange] = field(default_factory=list)
    # The session's `reflection` at the end; None when the API did not include one.
    reflection: dict[str, Any] | None = None

    @property
    def route(self) -> list[str]:
        """The stages the conversation passed through, each change listed once."""
        if not self.exchanges:
            return []
        stages = [self.exchanges[0].stage_before]
        for exchange in self.exchanges:
            if exchange.stage_after != stages[-1]:
                stages.append(exchange.stage_after)
        return stages
