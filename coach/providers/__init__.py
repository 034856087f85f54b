"""Providers answer a turn: `guided` (no model, deterministic) or `openai` (any
OpenAI-compatible endpoint). The app keeps its provider in `app.extensions`.

This area may import `coach.guide`, `coach.errors` and `coach.config`; it knows
nothing of coaching sessions, storage or the web.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from coach.errors import ConfigurationError
from coach.providers.base import (
    ChatPrompt,
    ChatTurn,
    Completion,
    GuidedPrompt,
    Provider,
    ReplyInterrupted,
)
from coach.providers.guided import GuidedProvider
from coach.providers.openai_chat import OpenAIProvider

EXTENSION_KEY = "coach.provider"

# The one registration line a new provider adds.
PROVIDERS: dict[str, type[Provider[Any]]] = {
    provider.name: provider for provider in (GuidedProvider, OpenAIProvider)
}

__all__ = [
    "PROVIDERS",
    "ChatPrompt",
    "ChatTurn",
    "Completion",
    "GuidedPrompt",
    "Provider",
    "ReplyInterrupted",
    "init_app",
    "provider",
]


def init_app(app: Flask) -> None:
    # Unset, the default follows the key: a configured model is meant to be used.
    name = app.config["COACH_PROVIDER"] or (
        OpenAIProvider.name if app.config["OPENAI_API_KEY"] else GuidedProvider.name
    )
    if name not in PROVIDERS:
        raise ConfigurationError(
            f"COACH_PROVIDER: {name!r} is refused, expected one of {', '.join(sorted(PROVIDERS))}"
        )
    app.config["COACH_PROVIDER"] = name
    app.extensions[EXTENSION_KEY] = PROVIDERS[name].from_app(app)


def provider(app: Flask | None = None) -> Provider[Any]:
    chosen: Provider[Any] = (app or current_app).extensions[EXTENSION_KEY]
    return chosen
