"""The safety rules of one app, loaded once from `prompts/safety/` and kept in
`app.extensions`: the crisis screen, the statements that end careful mode, the
fixed replies with the resources of the configured region, and the output guard.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, Field

from coach.safety.careful import SafeStatements
from coach.safety.crisis import CrisisScreen
from coach.safety.output_guard import OutputGuard
from coach.safety.replies import SafetyReplies
from coach.safety.resources import ResourceDirectory, Resources

EXTENSION_KEY = "coach.safety"
DISCLOSURE_FILE = Path("safety") / "disclosure.toml"


class Disclosure(BaseModel):
    """What the coach says it is, at the top of its first reply."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    model: str = Field(min_length=1)  # when an AI model writes the replies
    guided: str = Field(min_length=1)  # in guided mode

    def for_mode(self, uses_model: bool) -> str:
        return self.model if uses_model else self.guided


@dataclass(frozen=True)
class SafetyRules:
    crisis_screen: CrisisScreen
    safe_statements: SafeStatements
    replies: SafetyReplies
    # The helplines and emergency number of the region the app serves.
    resources: Resources
    output_guard: OutputGuard
    disclosure: Disclosure

    @classmethod
    def load(cls, prompts_dir: Path, region: str | None) -> SafetyRules:
        return cls(
            crisis_screen=CrisisScreen.load(prompts_dir),
            safe_statements=SafeStatements.load(prompts_dir),
            replies=SafetyReplies.load(prompts_dir),
            resources=ResourceDirectory.load(prompts_dir).crisis_resources(region),
            output_guard=OutputGuard.load(prompts_dir),
            disclosure=Disclosure.model_validate(
                tomllib.loads((prompts_dir / DISCLOSURE_FILE).read_text("utf-8"))
            ),
        )


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = SafetyRules.load(
        Path(app.config["COACH_PROMPTS_DIR"]), app.config["COACH_CRISIS_REGION"]
    )


def safety_rules(app: Flask | None = None) -> SafetyRules:
    rules: SafetyRules = (app or current_app).extensions[EXTENSION_KEY]
    return rules
