"""Guided mode: no model. A deterministic coach that puts the dialogue's move for
the turn (`coach.guide.move`, decided by `coach.coaching.dialogue`) into words:
it reflects what it heard in its own words and checks it, affirms what the
seeker shows, offers what the guide holds for this moment, summarises before a
stage changes, and answers requests. The words are data in `prompts/guided.toml`
(`coach.providers.guided_words`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Generator
from pathlib import Path
from typing import Any

from flask import Flask

from coach.guide.frameworks import Frameworks, frameworks, next_stage
from coach.guide.move import Move
from coach.guide.record import ReflectionRecord
from coach.providers.base import Completion, GuidedPrompt, Provider
from coach.providers.guided_words import Wording, reflects_nothing

CHUNK_WORDS = 4
REQUIRED_TABLES = ("reflect", "answered", "affirmations", "stage_summary", "turns", "recruiter")


class GuidedProvider(Provider[GuidedPrompt]):
    name = "guided"
    prompt_type = GuidedPrompt
    uses_model = False
    # No model to ask: the counselors' quality panel is labelled by the rules.
    labels_replies = False
    model_name = "guided"

    def __init__(self, frameworks: Frameworks, words: dict[str, Any]) -> None:
        missing = [t for t in (*REQUIRED_TABLES, "languages") if t not in words]
        if missing:
            raise ValueError(f"guided.toml lacks the tables {missing}")
        self.frameworks = frameworks
        self.wording = Wording(words, frameworks)

    @classmethod
    def from_app(cls, app: Flask) -> GuidedProvider:
        return cls.load(frameworks(app), Path(app.config["COACH_PROMPTS_DIR"]))

    @classmethod
    def load(cls, frameworks: Frameworks, prompts_dir: Path) -> GuidedProvider:
        return cls(frameworks, tomllib.loads((prompts_dir / "guided.toml").read_text("utf-8")))

    def stream_reply(
        self, prompt: GuidedPrompt, completion: Completion
    ) -> Generator[str, None, None]:
        completion.model = self.model_name
        words = compose_reply(prompt, self.wording).split(" ")
        for start in range(0, len(words), CHUNK_WORDS):
            chunk = " ".join(words[start : start + CHUNK_WORDS])
            yield chunk if start + CHUNK_WORDS >= len(words) else chunk + " "


def compose_reply(prompt: GuidedPrompt, wording: Wording) -> str:
    """The reply for the turn's move, in the coach's words."""
    move, record, seed = prompt.move, prompt.record, prompt.user_message
    turns = wording.data["turns"]
    if move.kind == "language" and move.language in wording.data["languages"]:
        return str(wording.data["languages"][move.language]["line"])
    if move.kind == "break":
        return str(turns["break"])
    paragraphs: list[str] = []
    affirmations = [wording.data["affirmations"][key] for key in move.affirm[:1]]
    offers = [wording.offered(_item(wording.frameworks, ref)) for ref in move.offer]
    if move.kind == "recruiter":
        paragraphs.append(wording.recruiter_draft())
    elif move.ask == "confirm":
        # The turn ends on its one question, whether it heard right: what it affirms
        # comes before what it checks (and it offers nothing: `offers.offer_count`).
        lead, checked = _opening(move, record, wording, seed)
        # The check ends the reflection; after the seeker's own words it would record,
        # shown as a list, it stands on its own.
        check, preview = wording.data["reflect"]["check"], wording.record_preview(move.proposed)
        shown = [preview, check] if preview else []
        checked = checked if preview else [*checked, check]
        if affirmations:
            paragraphs += [" ".join(lead), *affirmations, " ".join(checked), *shown]
            affirmations = []
        else:
            paragraphs += [" ".join(lead + checked), *shown]
    else:
        lead, reflected = _opening(move, record, wording, seed)
        paragraphs.append(" ".join(lead + reflected))
    paragraphs += affirmations
    closing = _closing(move, record, wording)
    if move.left_stage and closing:
        # Entering a stage: what it offers comes before its opening question.
        closing[-1:-1] = offers
    else:
        paragraphs += offers
    paragraphs += closing
    return "\n\n".join(p for p in paragraphs if p)


def _item(frameworks: Frameworks, ref: str) -> Any:
    stage, section, key = ref.split("/")
    return frameworks.stage(stage).section(section).item(key)


def _opening(
    move: Move, record: ReflectionRecord, wording: Wording, seed: str
) -> tuple[list[str], list[str]]:
    """Reflect, never echo: what was confirmed, corrected or newly heard, in the
    coach's words. In two parts: what the turn answers, then what it reflects (a
    turn that checks what it heard adds its check in `compose_reply`), so that what
    it affirms can come between them."""
    lead: list[str] = []
    answered = wording.data["answered"]
    if move.answer in ("confirmed", "chose", "partial") and not move.confirmed.is_empty():
        key = move.answer
        lead.append(wording.line("answered", key, seed, entries=wording.entries(move.confirmed)))
    elif move.answer == "denied":
        lead.append(wording.line("answered", "denied", seed))
    elif move.answer == "stayed":
        lead.append(answered["stayed"])
    elif move.answer == "moved":
        lead.append(answered["moved"])
    if move.answer in ("stayed", "denied") and not move.confirmed.is_empty():
        # "No, not yet. I'm relieved too": the feeling they named beside the answer.
        lead.append(
            wording.line("answered", "chose", seed, entries=wording.entries(move.confirmed))
        )
    if not move.removed.is_empty():
        lead.append(wording.line("turns", "removed", entries=wording.entries(move.removed)))
    if move.feedback_noted:
        lead.append(wording.line("reflect", "feedback", seed))
    reflected = wording.reflection(move.proposed, seed)
    after: list[str] = []
    if move.kind in ("greeting", "returning", "thanks", "open_question"):
        lead.insert(0, wording.data["turns"][move.kind])
    elif move.kind == "asks_ahead":
        lead.insert(0, wording.data["turns"]["ahead"][f"{move.ahead}_{move.stage}"])
    elif move.kind == "coach_question":
        lead.insert(0, wording.data["turns"]["coach_question"])
        if not record.is_empty():
            after.append(wording.line("turns", "what_we_have", found=wording.entries(record)))
    elif move.kind == "fragment":
        lines = wording.data["turns"]["fragment"]
        after.append(lines[move.question % len(lines)])
    elif move.after_check_in:
        # In place of a plain acknowledgement: they answered how they are doing.
        lead.insert(0, wording.data["reflect"]["after_check_in"])
    elif (
        not lead
        and not reflected
        and reflects_nothing(move)
        and move.kind == "reflect"
        and not move.sympathy
        and not move.reassure
        and not move.listening
    ):
        plain = "tips" if move.wants_tips else "unsure" if move.unsure else "plain"
        after.append(wording.line("reflect", plain, seed))
    if move.reassure:
        lead.insert(0, wording.data["turns"]["reassure"])
    if move.listening:
        lead.insert(0, wording.data["turns"]["listening"])
    if move.sympathy:
        # Before anything else, and in place of a plain acknowledgement.
        lead.insert(0, wording.data["reflect"]["sympathy"])
    return lead, reflected + after


def _closing(move: Move, record: ReflectionRecord, wording: Wording) -> list[str]:
    """The question the turn ends on: one at a time."""
    frameworks, summary = wording.frameworks, wording.data["stage_summary"]
    framework = frameworks.stage(move.stage)
    if move.kind == "recruiter" or move.ask in ("confirm", "none"):
        return []
    if move.ask == "what_fits":
        if move.kind == "fragment":
            return [wording.data["turns"]["pause"]]
        return [wording.data["answered"]["denied_ask"]]
    if move.ask == "move_on":
        following = frameworks.stage(next_stage(move.stage)).title
        return [wording.summary(move.stage, record), summary["ask_move_on"].format(next=following)]
    if move.kind == "plan":
        said = (
            [wording.summary(move.left_stage, record)] if move.left_stage and move.summarise else []
        )
        return [*said, wording.plan_recap(record), wording.data["turns"]["plan_ask"]]
    if move.left_stage:
        parts = [wording.summary(move.left_stage, record)] if move.summarise else []
        parts.append(summary["entering"].format(title=framework.title))
        if move.stage == "improvement":
            parts += _cause_and_strategies(record, wording, move)
        parts.append(framework.opening)
        return parts
    if move.kind in ("greeting", "returning", "coach_question", "open_question") and not (
        framework.questions
    ):
        return [framework.opening]
    return [framework.question(move.question).text]


def _cause_and_strategies(record: ReflectionRecord, wording: Wording, move: Move) -> list[str]:
    """The cause named and the strategies offered, from the same record entry (less
    what the seeker has done already)."""
    cause = record.cause_worked_on
    catalogue = wording.frameworks.catalogue
    response = catalogue.causes[cause]
    keys = [k for k in response.strategies if k not in move.skipped_strategies]
    strategies = [catalogue.strategies[k] for k in keys]
    lines = "\n".join(f"- **{s.name}**: {s.how}" for s in strategies)
    if cause != "unknown":
        named = f"About the likely cause, **{wording.cause(cause)}**: {response.advice}"
    elif record.feedback:
        # No cause, but the employer's words: not "when the reason is unclear, ask".
        named = str(wording.data["turns"]["feedback_in_hand"])
    else:
        named = response.advice
    return [named, lines]
