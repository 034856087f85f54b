"""The fixed safety replies (`prompts/safety/replies.toml`): the crisis reply, the
careful-mode check-in, the "glad you're safe" reply and the distress reply.

They are human-written and never generated: a model receives no request on a
crisis turn. Each is returned as Markdown with the region's helplines and
emergency number filled in from `coach.safety.resources`; the structured
`Resources` travel beside it for the API and for the page's `tel:` links.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from coach.safety.resources import Resources, emergency_words, helplines_markdown
from coach.safety.rule_data import Strict, load_validated

REPLIES_FILE = Path("safety") / "replies.toml"
ReplyKind = Literal["crisis", "check_in", "check_in_again", "glad_safe", "distress"]
PLACEHOLDERS = ("helplines", "emergency")
# The replies that must show where help is and the number for immediate danger.
MUST_NAME_HELP = ("crisis", "check_in", "check_in_again")


class ReplyText(Strict):
    text: str = Field(min_length=1)

    @model_validator(mode="after")
    def _known_placeholders(self) -> ReplyText:
        unknown = set(re.findall(r"\{([^}]*)\}", self.text)) - set(PLACEHOLDERS)
        if unknown:
            raise ValueError(f"unknown placeholders {sorted(unknown)}; known: {PLACEHOLDERS}")
        return self


class ReplyFile(Strict):
    no_emergency_number: str = Field(min_length=1)
    crisis: ReplyText
    check_in: ReplyText
    check_in_again: ReplyText
    glad_safe: ReplyText
    distress: ReplyText

    @model_validator(mode="after")
    def _help_is_named(self) -> ReplyFile:
        for kind in MUST_NAME_HELP:
            text = getattr(self, kind).text
            for placeholder in PLACEHOLDERS:
                if f"{{{placeholder}}}" not in text:
                    raise ValueError(f"the {kind} reply must hold {{{placeholder}}}")
        return self


class SafetyReplies:
    """The fixed replies, loaded once and filled in per region."""

    def __init__(self, data: ReplyFile) -> None:
        self.data = data

    @classmethod
    def load(cls, prompts_dir: Path) -> SafetyReplies:
        return cls(load_validated(prompts_dir / REPLIES_FILE, ReplyFile))

    def reply_markdown(self, kind: ReplyKind, resources: Resources) -> str:
        """The `kind` reply as Markdown, with `resources`' lines and numbers in it."""
        text: str = getattr(self.data, kind).text
        filled = {
            "helplines": helplines_markdown(resources),
            "emergency": emergency_words(resources, self.data.no_emergency_number),
        }
        for placeholder, value in filled.items():
            text = text.replace(f"{{{placeholder}}}", value)
        return text.strip()

    def crisis_reply(self, resources: Resources) -> str:
        return self.reply_markdown("crisis", resources)

    def check_in_reply(self, resources: Resources, *, again: bool = False) -> str:
        """The careful-mode check-in; `again` right after one, in other words (the
        same words twice in a row read as not listening)."""
        return self.reply_markdown("check_in_again" if again else "check_in", resources)

    def glad_safe_reply(self, resources: Resources) -> str:
        return self.reply_markdown("glad_safe", resources)

    def distress_reply(self, resources: Resources) -> str:
        return self.reply_markdown("distress", resources)
