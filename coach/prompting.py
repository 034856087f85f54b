"""System prompts, rendered with Jinja2 from the templates under `prompts/templates/`.

`StrictUndefined` makes a missing variable an error instead of an empty string,
so that a template and the code that feeds it cannot drift apart unnoticed.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from coach.frameworks import CAUSES, STAGES, Frameworks, frameworks
from coach.reflection import ReflectionRecord


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
        )

    def render(self, template: str, **context: object) -> str:
        return self.environment.get_template(template).render(**context).strip() + "\n"

    def build_system_prompt(self, stage: str, record: ReflectionRecord, summary: str) -> str:
        return self.render(
            "system.j2",
            framework=self.frameworks.stage(stage),
            frameworks=self.frameworks,
            catalogue=self.frameworks.catalogue,
            stage_count=len(STAGES),
            record=record,
            summary=summary,
        )

    def build_reflection_instructions(self) -> str:
        return self.render("reflection.j2", causes=CAUSES)


EXTENSION_KEY = "coach.prompts"


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = PromptBook(
        Path(app.config["COACH_PROMPTS_DIR"]), frameworks(app)
    )


def prompt_book(app: Flask | None = None) -> PromptBook:
    book: PromptBook = (app or current_app).extensions[EXTENSION_KEY]
    return book
