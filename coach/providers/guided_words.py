"""Guided mode's wording: the dialogue's move (`coach.guide.move`) put into the
coach's own words from `prompts/guided.toml` and the frameworks.

A reflection never gives the seeker's sentences back: it names the feeling and
what it is about with the frameworks' labels. Entries the seeker wrote (strengths,
goals, routine, support) are shown only as what would go into their record, after
the reflection and before the check, so that they confirm words they have seen;
the plan reads them back as the seeker's own list. A line with variants is picked
by what is being said, so the wording follows the content, never the turn number.
"""

from __future__ import annotations

import zlib
from typing import Any

from coach.guide.frameworks import Frameworks, Item
from coach.guide.move import Move
from coach.guide.record import ReflectionRecord, plain_markdown

# The record's fields that hold the seeker's own words rather than a label.
OWN_WORD_FIELDS = ("strengths", "goals", "routine", "support")


def pick(variants: str | list[str], seed: str) -> str:
    if isinstance(variants, str):
        return variants
    return variants[zlib.crc32(seed.encode("utf-8")) % len(variants)]


def and_list(values: list[str]) -> str:
    if len(values) <= 1:
        return "".join(values)
    return ", ".join(values[:-1]) + " and " + values[-1]


class Wording:
    """The guided words of one app, bound to its frameworks."""

    def __init__(self, data: dict[str, Any], frameworks: Frameworks) -> None:
        self.data = data
        self.frameworks = frameworks
        reactions = frameworks.stage("emotions").section("reactions").items
        self.reactions = {i.name.lower() for i in reactions}
        # What each reaction is usually about, by its name in lower case.
        self.abouts = {i.name.lower(): i.about for i in reactions if i.about}
        self.strategy_names = {s.name for s in frameworks.catalogue.strategies.values()}
        self.routine_names = {
            i.name for i in frameworks.stage("resilience").section("routine").items
        }

    def line(self, table: str, key: str, seed: str = "", **values: str) -> str:
        return str(pick(self.data[table][key], seed).format(**values))

    # What the record holds, in the coach's words -----------------------------------

    def feelings(self, emotions: list[str]) -> str:
        named = [e if e.lower() in self.reactions else f"feeling {e}" for e in emotions]
        if len(named) == 1:
            return named[0]
        return ", ".join(named[:-1]) + ", and some " + named[-1]

    def about(self, emotions: list[str]) -> str:
        """What the feelings are about: the last reaction's usual object, or the news
        for a feeling in the seeker's own word."""
        last = emotions[-1].lower() if emotions else ""
        return self.abouts.get(last) or str(self.data["reflect"]["about_news"])

    def cause(self, code: str) -> str:
        return self.frameworks.cause_label(code).lower()

    def entries(self, record: ReflectionRecord) -> str:
        """What a record holds, named without giving back the seeker's sentences."""
        parts = [e if e.lower() in self.reactions else f"feeling {e}" for e in record.emotions]
        parts += [f"**{self.cause(c.cause)}** as a likely cause" for c in record.likely_causes]
        if record.cause_unknown:
            parts.append("that the reason is not known yet")
        if record.feedback:
            parts.append("the feedback you received")
        if record.strengths:
            parts.append("the strength you named")
        for goal in record.goals:
            parts.append(f"**{goal}**" if goal in self.strategy_names else "the goal you named")
        for routine in record.routine:
            parts.append(
                f"**{routine}**" if routine in self.routine_names else "the routine you described"
            )
        if record.support:
            parts.append("someone to lean on")
        return and_list(_dedupe(parts))

    def stage_found(self, stage: str, record: ReflectionRecord) -> str:
        fields = {
            "emotions": ReflectionRecord(emotions=record.emotions),
            "causes": ReflectionRecord(
                likely_causes=record.likely_causes, cause_unknown=record.cause_unknown
            ),
            "improvement": ReflectionRecord(goals=record.goals),
            "resilience": ReflectionRecord(routine=record.routine, support=record.support),
        }
        return self.entries(fields.get(stage, ReflectionRecord()))

    def summary(self, stage: str, record: ReflectionRecord) -> str:
        found = self.stage_found(stage, record)
        if not found or stage not in self.data["stage_summary"]:
            return str(self.data["stage_summary"]["nothing"])
        return self.line("stage_summary", stage, found=found)

    # Reflections of what is proposed ----------------------------------------------------

    def reflection(self, proposed: ReflectionRecord, seed: str) -> list[str]:
        sentences = []
        if proposed.emotions:
            sentences.append(
                self.line(
                    "reflect",
                    "feelings",
                    seed,
                    feelings=self.feelings(proposed.emotions),
                    about=self.about(proposed.emotions),
                )
            )
        # One mention of each cause, however many sentences pointed to it.
        causes = list(dict.fromkeys(found.cause for found in proposed.likely_causes))[:2]
        if len(causes) == 2:
            first, second = (self.cause(code) for code in causes)
            sentences.append(self.line("reflect", "causes", first=first, second=second))
        elif causes:
            sentences.append(self.line("reflect", "cause", causes[0], cause=self.cause(causes[0])))
        if proposed.cause_unknown:
            sentences.append(self.data["reflect"]["cause_unknown"])
        heard = [field for field in OWN_WORD_FIELDS if getattr(proposed, field)]
        if heard:
            # One warm word for what was heard; `record_preview` shows all of it.
            sentences.append(self.data["reflect"][heard[0]])
        return sentences

    def record_preview(self, proposed: ReflectionRecord) -> str | None:
        """What would go into the record of the seeker's own words, so that a yes or a
        no is to something seen: "I heard a goal" alone asked them to confirm words
        they never saw. None when nothing of theirs is proposed."""
        kinds = self.data["reflect"]["kinds"]
        lines = [
            f"- **{kinds[field]}:** {plain_markdown(entry)}"
            for field in OWN_WORD_FIELDS
            for entry in getattr(proposed, field)
        ]
        if not lines:
            return None
        heading: str = self.data["reflect"]["to_note"]
        return heading + "\n\n" + "\n".join(dict.fromkeys(lines))

    def offered(self, item: Item) -> str:
        if item.contrast:
            contrast = item.contrast[0].lower() + item.contrast[1:]
            return f"**{item.name}** rather than {contrast}: {item.text}"
        return f"**{item.name}.** {item.text}"

    # The plan, read back ---------------------------------------------------------------

    def plan_recap(self, record: ReflectionRecord) -> str:
        parts = self.frameworks.stage("plan").section("plan_parts")
        none = self.data["turns"]["plan_none"]
        learned = list(record.emotions) + [self.cause(c.cause) for c in record.likely_causes]
        resources = [s.name for s in self.frameworks.strategies_for(record.cause_worked_on)]
        rows = {
            "insights": ", ".join(learned) or none,
            "goals": "; ".join(record.goals) or none,
            "resources": ", ".join(resources),
            "routine": "; ".join(record.routine) or none,
            "support": "; ".join(record.support) or none,
            "review_date": self.data["turns"]["review_date"],
        }
        lines = [f"- **{item.name}:** {rows[str(item.key)]}" for item in parts.items]
        return str(self.data["turns"]["plan_intro"]) + "\n\n" + "\n".join(lines)

    def recruiter_draft(self) -> str:
        quoted = "\n".join(f"> {line}".rstrip() for line in self.data["recruiter"]["draft"])
        return "\n\n".join([self.data["recruiter"]["intro"], quoted, self.data["recruiter"]["why"]])


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def reflects_nothing(move: Move) -> bool:
    return move.proposed.is_empty() and move.confirmed.is_empty() and not move.feedback_noted
