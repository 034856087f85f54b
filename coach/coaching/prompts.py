"""Prompts: what the provider is shown for a turn (`build_prompt`), and the system
prompts rendered with Jinja2 from the templates under `prompts/templates/`.

Each provider gets the kind of prompt it asks for: a chat model the system prompt,
the bounded recent turns, the turn's note and the message; guided mode where the
conversation stands, with no system prompt. The chat prompt is ordered from what
changes least to what changes most: the system prompt (instructions for the stage
and the rolling summary) changes only when a stage changes or turns are folded, so a
provider's prompt cache reuses it and the turns after it; the record and the
dialogue's move for this turn come in a note after the conversation.
`StrictUndefined` makes a missing template variable an error instead of an empty
string, so that a template and the code that feeds it cannot drift apart unnoticed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from coach.coaching.clock import clock
from coach.coaching.dialogue_state import decided_move
from coach.coaching.move_prompt import move_data, move_instructions
from coach.coaching.transcript import recent_window, window_size
from coach.guide.frameworks import CAUSES, STAGES, Frameworks, frameworks
from coach.guide.move import Move
from coach.guide.record import ReflectionRecord
from coach.providers import ChatPrompt, GuidedPrompt, Provider, provider
from coach.storage.database import short_transaction
from coach.storage.models import MESSAGES_TABLE, CoachingSession, Message

Built = TypeVar("Built")

# System prompts kept rendered: about one per conversation active between two folds.
SYSTEM_PROMPTS_KEPT = 256
# The block that holds what the person said, in the system prompt.
DATA_OPEN = "<seeker_information>"
DATA_CLOSE = "</seeker_information>"


def causes_found(record: ReflectionRecord) -> list[str]:
    """The cause codes the record names, first found first; ["unknown"] when none is."""
    found: list[str] = [c.cause for c in record.likely_causes if c.cause != "unknown"]
    return list(dict.fromkeys(found)) or ["unknown"]


def as_data(text: object) -> str:
    """The seeker's words made safe inside the data block: no angle brackets, so no
    tag of theirs can end the block and speak as the instructions."""
    return str(text).replace("<", "\u2039").replace(">", "\u203a")


def instruction_part(system_prompt: str) -> str:
    """The part of a system prompt that instructs: all of it before the data block."""
    return system_prompt.split(DATA_OPEN, 1)[0]


class PromptBook:
    """The prompt templates of one app, bound to its frameworks."""

    def __init__(self, prompts_dir: Path, frameworks: Frameworks) -> None:
        self.frameworks = frameworks
        self.environment = Environment(
            loader=FileSystemLoader(prompts_dir / "templates"),
            undefined=StrictUndefined,
            autoescape=False,  # noqa: S701 - plain-text prompts for a model, never HTML
            trim_blocks=True,
            keep_trailing_newline=False,
            # The templates are read once: no look at their files on every render.
            auto_reload=False,
        )
        # The seeker's words inside the data block can never close it early.
        self.environment.filters["as_data"] = as_data
        # The system prompt is the same from turn to turn between folds (so that a
        # provider's cache reuses it): rendered once for each set of what it shows.
        self._system_prompt = functools.lru_cache(maxsize=SYSTEM_PROMPTS_KEPT)(
            self._render_system_prompt
        )

    def render(self, template: str, **context: object) -> str:
        return self.environment.get_template(template).render(**context).strip() + "\n"

    def build_system_prompt(
        self,
        stage: str,
        record: ReflectionRecord,
        summary: str,
        *,
        today: date,
        distress: bool = False,
    ) -> str:
        """The instructions for `stage`, then the rolling summary as data.

        Only the strategies of the causes found are offered (those of "unknown"
        while none is), so the advice follows the cause and the prompt stays short.
        The record itself, which changes from turn to turn, is in the turn's note
        (`build_turn_note`), so that this prompt stays the same between folds.
        """
        return self._system_prompt(stage, tuple(causes_found(record)), summary, today, distress)

    def _render_system_prompt(
        self, stage: str, causes: tuple[str, ...], summary: str, today: date, distress: bool
    ) -> str:
        return self.render(
            "system.j2",
            distress=distress,
            data_open=DATA_OPEN,
            data_close=DATA_CLOSE,
            framework=self.frameworks.stage(stage),
            frameworks=self.frameworks,
            stage_count=len(STAGES),
            today=today,
            causes=list(causes),
            summary=summary,
        )

    def build_turn_note(self, record: ReflectionRecord, move: Move | None) -> str:
        """What this turn adds after the conversation: the dialogue's move as
        instructions (none on a turn of distress), then the record and the move's
        entries as data."""
        return self.render(
            "turn.j2",
            instructions=move_instructions(move, self.frameworks) if move else "",
            move_entries=move_data(move, self.frameworks, as_data) if move else "",
            data_open=DATA_OPEN,
            data_close=DATA_CLOSE,
            frameworks=self.frameworks,
            record=record,
        )

    def build_reflection_instructions(self) -> str:
        return self.render("reflection.j2", causes=CAUSES)

    def build_crisis_check_instructions(self) -> str:
        return self.render("crisis_check.j2")


EXTENSION_KEY = "coach.prompts"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = PromptBook(
        Path(app.config["COACH_PROMPTS_DIR"]), frameworks(app)
    )


def prompt_book(app: Flask | None = None) -> PromptBook:
    book: PromptBook = (app or current_app).extensions[EXTENSION_KEY]
    return book


def build_prompt(
    app: Flask, message_id: int, *, distress: bool = False
) -> ChatPrompt | GuidedPrompt:
    """What this app's provider is shown for the message: the kind it asks for.
    `distress` asks a model for care and no advice on this turn."""
    return _read_and_build(
        app, message_id, lambda db, s, m: prompt_for(app, db, s, m, distress=distress)
    )


def prompt_for(
    app: Flask,
    db: Session,
    coaching_session: CoachingSession,
    message: Message,
    *,
    distress: bool = False,
) -> ChatPrompt | GuidedPrompt:
    """`build_prompt` inside the caller's transaction, for the message as it stands
    there (the transaction that stores and settles a turn builds its prompt too)."""
    chosen: Provider[Any] = provider(app)
    if chosen.prompt_type is GuidedPrompt:
        return GuidedPrompt(
            user_message=message.content,
            stage=message.stage,
            record=ReflectionRecord.model_validate(coaching_session.reflection),
            move=decided_move(coaching_session, message),
        )
    return _chat_prompt(app, db, coaching_session, message, distress=distress)


def build_chat_prompt(app: Flask, message_id: int, *, distress: bool = False) -> ChatPrompt:
    """A chat model's prompt for the message, whatever the app's provider."""
    return _read_and_build(
        app, message_id, lambda db, s, m: _chat_prompt(app, db, s, m, distress=distress)
    )


def _read_and_build(
    app: Flask, message_id: int, build: Callable[[Session, CoachingSession, Message], Built]
) -> Built:
    """`build` on the message and its session, in a read transaction of its own."""
    with short_transaction(app, read_only=True) as db:
        message = db.get_one(Message, message_id)
        coaching_session = db.get_one(CoachingSession, message.coaching_session_id)
        return build(db, coaching_session, message)


_messages = MESSAGES_TABLE.c

# The columns the history reads, not whole messages (a prompt reads a dozen or more);
# built once, since every turn runs it and building costs more than running it.
_HISTORY = (
    select(
        _messages.id,
        _messages.role,
        _messages.status,
        _messages.content,
    )
    .where(_messages.coaching_session_id == bindparam("session_id"))
    .where(_messages.id > bindparam("after"), _messages.id < bindparam("before"))
    .order_by(_messages.id)
)


def _chat_prompt(
    app: Flask,
    db: Session,
    coaching_session: CoachingSession,
    message: Message,
    *,
    distress: bool,
) -> ChatPrompt:
    """The system prompt, the unfolded recent turns, the turn's note and the message."""
    record = ReflectionRecord.model_validate(coaching_session.reflection)
    earlier = db.execute(
        _HISTORY,
        {
            "session_id": coaching_session.id,
            "after": coaching_session.summary_through_id,
            "before": message.id,
        },
    ).all()
    shown = window_size(app.config["COACH_RECENT_MESSAGES"], app.config["COACH_FOLD_CHUNK"])
    book = prompt_book(app)
    system = book.build_system_prompt(
        message.stage,
        record,
        coaching_session.summary,
        today=clock(app).today(),
        distress=distress,
    )
    move = None if distress else decided_move(coaching_session, message)
    return ChatPrompt(
        system=system,
        history=tuple(recent_window(earlier, coaching_session.summary_through_id, shown)),
        user_message=message.content,
        turn_note=book.build_turn_note(record, move),
    )
