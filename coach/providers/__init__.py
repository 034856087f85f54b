"""Providers answer a turn: `guided` (no model, deterministic) or `openai` (any
OpenAI-compatible endpoint). The app keeps its provider in `app.extensions`."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from coach.frameworks import frameworks
from coach.prompting import prompt_book
from coach.providers.base import Completion, Provider, ReplyInterrupted
from coach.providers.guided import GuidedProvider
from coach.providers.openai_chat import OpenAIProvider

EXTENSION_KEY = "coach.provider"

__all__ = ["Completion", "Provider", "ReplyInterrupted", "init_app", "provider"]


def init_app(app: Flask) -> None:
    chosen: Provider
    if app.config["COACH_PROVIDER"] == "openai":
        chosen = OpenAIProvider(
            api_key=app.config["OPENAI_API_KEY"],
            base_url=app.config["OPENAI_BASE_URL"],
            model=app.config["COACH_MODEL"],
            timeout=app.config["COACH_MODEL_TIMEOUT"],
            attempts=app.config["COACH_MODEL_ATTEMPTS"],
            reflection_instructions=prompt_book(app).build_reflection_instructions(),
        )
    else:
        chosen = GuidedProvider.load(frameworks(app), Path(app.config["COACH_PROMPTS_DIR"]))
    app.extensions[EXTENSION_KEY] = chosen


def provider(app: Flask | None = None) -> Provider:
    chosen: Provider = (app or current_app).extensions[EXTENSION_KEY]
    return chosen
