"""Guided mode: no model. A deterministic coach that walks the same stages with the
frameworks' own questions, reflects the seeker's words back and draws on the
frameworks and the strategy catalogue for what it offers.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

from coach.conversation import TurnPrompt
from coach.frameworks import Framework, Frameworks
from coach.providers.base import Completion, Provider
from coach.reflection import ReflectionRecord, split_sentences

ECHO_MAX_WORDS = 24
CHUNK_WORDS = 4
# Entering these stages, what is already known is worth saying at once.
STAGES_THAT_OPEN_WITH_AN_OFFER = ("improvement", "plan")


class GuidedProvider(Provider):
    name = "guided"
    model_name = "guided"

    def __init__(self, frameworks: Frameworks, acknowledgements: tuple[str, ...]) -> None:
        if not acknowledgements or any("{words}" not in a for a in acknowledgements):
            raise ValueError("every guided acknowledgement needs a {words} placeholder")
        self.frameworks = frameworks
        self.acknowledgements = acknowledgements

    @classmethod
    def load(cls, frameworks: Frameworks, prompts_dir: Path) -> GuidedProvider:
        data = tomllib.loads((prompts_dir / "guided.toml").read_text("utf-8"))
        return cls(frameworks, tuple(data["acknowledgements"]))

    def stream_reply(self, prompt: TurnPrompt, completion: Completion) -> Iterator[str]:
        completion.model = self.model_name
        words = compose_reply(prompt, self.frameworks, self.acknowledgements).split(" ")
        for start in range(0, len(words), CHUNK_WORDS):
            chunk = " ".join(words[start : start + CHUNK_WORDS])
            yield chunk if start + CHUNK_WORDS >= len(words) else chunk + " "


def compose_reply(
    prompt: TurnPrompt, frameworks: Frameworks, acknowledgements: tuple[str, ...]
) -> str:
    framework = frameworks.stage(prompt.stage)
    # Vary the opening with the turn, deterministically.
    turn_number = len(prompt.history) // 2 + 1
    acknowledgement = acknowledgements[turn_number % len(acknowledgements)]
    paragraphs = [echo(prompt.user_message, acknowledgement)]
    if prompt.stage_turn == 1:
        if prompt.stage in STAGES_THAT_OPEN_WITH_AN_OFFER:
            offer = _offer(prompt.stage, prompt.record, 2, framework, frameworks)
            if offer:
                paragraphs.append(offer)
        paragraphs.append(f"**{framework.title}.** {framework.opening}")
    else:
        offer = _offer(prompt.stage, prompt.record, prompt.stage_turn, framework, frameworks)
        if offer:
            paragraphs.append(offer)
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


def _offer(
    stage: str, record: ReflectionRecord, turn: int, framework: Framework, frameworks: Frameworks
) -> str | None:
    if stage == "emotions":
        return _emotions_offer(record, turn, framework)
    if stage == "causes":
        return _causes_offer(record, frameworks)
    if stage == "improvement":
        return _improvement_offer(record, frameworks)
    if stage == "resilience":
        items = [
            i for s in framework.sections if s.key in ("methods", "motivation") for i in s.items
        ]
        item = items[(turn - 2) % len(items)]
        return f"One thing that helps: **{item.name}**. {item.text}"
    return _plan_recap(record, frameworks)


def _emotions_offer(record: ReflectionRecord, turn: int, framework: Framework) -> str:
    reactions = {i.name.lower(): i for i in framework.section("reactions").items}
    named = [reactions[e] for e in record.emotions if e in reactions]
    if named:
        reaction = named[-1]
        return f"**{reaction.name}** is a very common response here. {reaction.text}"
    steps = framework.section("processing").items
    step = steps[(turn - 2) % len(steps)]
    return f"**{step.name}.** {step.text}"


def _causes_offer(record: ReflectionRecord, frameworks: Frameworks) -> str | None:
    if not record.likely_causes:
        return None
    latest = record.likely_causes[-1]
    response = frameworks.catalogue.causes[latest.cause]
    return (
        f"That may point to **{frameworks.cause_label(latest.cause).lower()}**. {response.advice}"
    )


def _improvement_offer(record: ReflectionRecord, frameworks: Frameworks) -> str:
    causes = [c.cause for c in record.likely_causes] or ["unknown"]
    strategies = {s.name: s for cause in causes for s in frameworks.strategies_for(cause)}
    lines = [f"- **{s.name}**: {s.how}" for s in list(strategies.values())[:3]]
    return "Given what we found, these fit best:\n\n" + "\n".join(lines)


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
