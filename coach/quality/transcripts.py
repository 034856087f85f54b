"""What holding one scripted conversation produced: each seeker turn with the coach's
reply, the stage before and after it, the choices offered, the causes the record
held after it and the model calls it made; the reflection record and the plan at
the end. The driver makes these from the app; tests make them by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coach.quality.cases import Conversation
from coach.quality.replay import Served


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
    # The cause codes of the record after this turn (None: not read).
    causes: tuple[str, ...] | None = None
    # The model calls made while this turn was answered (model mode only).
    served: tuple[Served, ...] = ()
    # Whether the reply came with the disclosure of what the coach is, and with the
    # region's help resources.
    disclosed: bool = False
    resources: bool = False

    @property
    def reply_calls(self) -> list[Served]:
        return [s for s in self.served if s.purpose == "reply"]


@dataclass
class Transcript:
    conversation: Conversation
    exchanges: list[Exchange] = field(default_factory=list)
    # The session's `reflection` at the end; None when the API did not include one.
    reflection: dict[str, Any] | None = None
    # The plan asked for after the last turn, as the API shows it, or why there is none.
    plan: dict[str, Any] | None = None
    plan_error: str | None = None
    plan_served: tuple[Served, ...] = ()
    # The prompt files the app read while holding this conversation (relative paths).
    prompt_files: set[str] = field(default_factory=set)

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

    @property
    def final_stage(self) -> str:
        return self.exchanges[-1].stage_after if self.exchanges else ""

    @property
    def causes(self) -> set[str]:
        """The likely causes the final record holds (`unknown` for `cause_unknown`)."""
        record = self.reflection or {}
        found = {str(c.get("cause")) for c in record.get("likely_causes") or ()}
        return found | ({"unknown"} if record.get("cause_unknown") else set())
