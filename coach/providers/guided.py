"""Guided mode: no model. A deterministic coach that walks the same stages with the
frameworks' own questions, reflects the seeker's words back and draws on the
frameworks and the strategy catalogue for what it offers.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

from flask import Flask

from coach.guide.frameworks import Framework, Frameworks, Item, frameworks
from coach.guide.record import ReflectionRecord, split_sentences
from coach.providers.base import Completion, GuidedPrompt, Provider

ECHO_MAX_WORDS = 24
CHUNK_WORDS = 4


class GuidedProvider(Provider[GuidedPrompt]):
    name = "guided"
    prompt_type = GuidedPrompt
    uses_model = False
    model_name = "guided"

    def __init__(self, frameworks: Frameworks, acknowledgements: tuple[str, ...]) -> None:
        if not acknowledgements or any("{words}" not in a for a in acknowledgements):
            raise ValueError("every guided acknowledgement needs a {words} placeholder")
        self.frameworks = frameworks
        self.acknowledgements = acknowledgements

    @classmethod
    def from_app(cls, app: Flask) -> GuidedProvider:
        return cls.load(frameworks(app), Path(app.config["COACH_PROMPTS_DIR"]))

    @classmethod
    def load(cls, frameworks: Frameworks, prompts_dir: Path) -> GuidedProvider:
        data = tomllib.loads((prompts_dir / "guided.toml").read_text("utf-8"))
        return cls(frameworks, tuple(data["acknowledgements"]))

    def stream_reply(self, prompt: GuidedPrompt, completion: Completion) -> Iterator[str]:
        completion.model = self.model_name
        words = compose_reply(prompt, self.frameworks, self.acknowledgements).split(" ")
        for start in range(0, len(words), CHUNK_WORDS):
            chunk = " ".join(words[start : start + CHUNK_WORDS])
            yield chunk if start + CHUNK_WORDS >= len(words) else chunk + " "


def compose_reply(
    prompt: GuidedPrompt, frameworks: Frameworks, acknowledgements: tuple[str, ...]
) -> str:
    framework = frameworks.stage(prompt.stage)
    # Vary the opening with the turn, deterministically.
    acknowledgement = acknowledgements[prompt.turn_number % len(acknowledgements)]
    paragraphs = [echo(prompt.user_message, acknowledgement)]
    offer = _offer(prompt.stage, prompt.record, prompt.stage_turn, frameworks)
    if offer:
        paragraphs.append(offer)
    if prompt.stage_turn == 1:
        paragraphs.append(f"**{framework.title}.** {framework.opening}")
    else:
        paragraphs.append(next_question(framework, prompt.stage_turn))
    return "\n\n".join(paragraphs)


def echo(text: str, acknowledgement: str) -> str:
    """The seeker's first sentence, given back in their own words."""
    sentences = split_sentences(text)
    first = sentences[0] if sentences else text.strip()
    words = first.split()
    quoted = " ".join(words[:ECHO_MAX_WORDS]) + ("…" if len(words) > ECHO_MAX_WORDS else "")
    quoted = re.sub(r"[*_`#>\[\]]", "", quoted)  # keep their words, not Markdown syntax
    return acknowledgement.format(words=quoted)


def next_question(framework: Framework, stage_turn: int) -> str:
    # The opening asked the first thing; questions follow from the second turn on.
    return framework.questions[(stage_turn - 2) % len(framework.questions)]


def _offer(stage: str, record: ReflectionRecord, turn: int, frameworks: Frameworks) -> str | None:
    """Something from the frameworks that fits this turn.

    Entering a stage, the coach first gives back what the previous one found (the
    feeling named, the likely cause and the strategies that fit it); later turns
    in a stage go through the stage's own material, one item a turn.
    """
    if stage == "emotions":
        return (
            None
            if turn == 1
            else _named_reaction(record, frameworks)
            or _rotate(frameworks.stage("emotions").section("processing").items, turn)
        )
    if stage == "causes":
        if turn == 1:
            return _named_reaction(record, frameworks)
        return _latest_cause(record, frameworks) or _rotate(
            frameworks.stage("causes").section("self_review").items, turn
        )
    if stage == "improvement":
        if turn == 1:
            found = _latest_cause(record, frameworks)
            return "\n\n".join(filter(None, [found, _fitting_strategies(record, frameworks)]))
        improvement = frameworks.stage("improvement")
        items = improvement.section("tailoring").items + improvement.section("resources").items
        return _rotate(items, turn)
    if stage == "resilience":
        if turn == 1:
            return None
        resilience = frameworks.stage("resilience")
        items = resilience.section("methods").items + resilience.section("motivation").items
        return "One thing that helps: " + _rotate(items, turn)
    return _plan_recap(record, frameworks) or None


def _rotate(items: tuple[Item, ...], turn: int) -> str:
    item = items[(turn - 2) % len(items)]
    return f"**{item.name}.** {item.text}"


def _named_reaction(record: ReflectionRecord, frameworks: Frameworks) -> str | None:
    reactions = {i.name.lower(): i for i in frameworks.stage("emotions").section("reactions").items}
    named = [reactions[e] for e in record.emotions if e in reactions]
    if not named:
        return None
    reaction = named[-1]
    return f"**{reaction.name}** is a very common response here. {reaction.text}"


def _latest_cause(record: ReflectionRecord, frameworks: Frameworks) -> str | None:
    if not record.likely_causes:
        return None
    latest = record.likely_causes[-1]
    response = frameworks.catalogue.causes[latest.cause]
    return (
        f"That may point to **{frameworks.cause_label(latest.cause).lower()}**. {response.advice}"
    )


def _fitting_strategies(record: ReflectionRecord, frameworks: Frameworks) -> str:
    causes = [c.cause for c in record.likely_causes] or ["unknown"]
    strategies = {s.name: s for cause in causes for s in frameworks.strategies_for(cause)}
    lines = [f"- **{s.name}**: {s.how}" for s in list(strategies.values())[:3]]
    return "These fit best with what we found:\n\n" + "\n".join(lines)


def _plan_recap(record: ReflectionRecord, frameworks: Frameworks) -> str:
    parts = ["Here is what we have for your plan so far:"]
    if record.emotions:
        parts.append("- **Feelings named:** " + ", ".join(record.emotions))
    for found in record.likely_causes:
        parts.append(f"- **Likely cause:** {frameworks.cause_label(found.cause)}")
    for label, values in (
        ("Goals", record.goals),
        ("Routine", record.routine),
        ("Support", record.support),
    ):
        if values:
            parts.append(f"- **{label}:** " + "; ".join(values))
    return "\n".join(parts) if len(parts) > 1 else ""
