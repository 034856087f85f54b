"""The scripted conversations of the suite and their hand-labelled expectations.

Each conversation is one TOML file under `evals/conversations/` (the file's stem is
its name), written to be read by people: who the seeker is, what they say turn by
turn, and what a good coach must do with it. The labels are:

- per turn, `consents = true` when the seeker asks to move on or for a stage
  ("Move on", "yes, let's go on"), `request` when they ask for something the coach
  must do in that very reply (`plan`, `recruiter`, `break`), and `language` when
  the turn is not in the conversation's language;
- `route`, the stages the conversation passes through, in order, starting with the
  stage a new session opens in;
- `[record]`: the entries of the reflection record that `must` appear at the end,
  those that `may` (right, but not required) and those that `must_not`.

A label names a record field and, optionally, a cause key (for `likely_causes`) and
`contains`: words of which at least one must be found in the entry (for a cause,
in its evidence), ignoring case.

The labels of the suite's checks (`coach.quality.suite_checks`):

- `mode`: `guided` (no model) or `model` (the `openai` path on the case's
  cassette, `evals/cassettes/<name>.toml`);
- `group`: the kind of case, for the report's table by group;
- `causes`: the likely causes the record must hold at the end, no more and no
  fewer (`unknown` when the seeker says they cannot know);
- per turn, `safety = "crisis"` when the screen must answer with its fixed reply
  (and no model hears the turn), `"figurative"` when the words only sound alarming
  and the turn must be coached as usual;
- `paraphrase`: cases of one paraphrase group must end alike (stage, causes, plan
  categories, safety decisions);
- `[plan]`: asked for after the last turn (and checked whenever a turn asks for
  the plan): the horizon, the categories its goals must include, and the seeker's
  `words` its goals must reuse.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from coach.guide.frameworks import GOAL_CATEGORIES, STAGES, Cause, Stage
from coach.guide.record import CHOSEN_EVIDENCE

RecordField = Literal[
    "emotions",
    "likely_causes",
    "cause_unknown",
    "feedback",
    "strengths",
    "goals",
    "routine",
    "support",
]
RequestKind = Literal["plan", "recruiter", "break"]
Mode = Literal["guided", "model"]
TurnSafety = Literal["crisis", "figurative"]
Category = Literal[GOAL_CATEGORIES]  # type: ignore[valid-type]
# Guided mode speaks English and answers these with a fixed line of their own.
Language = Literal["en", "es", "fr", "de", "pt", "it"]
ENGLISH: Language = "en"
FIRST_STAGE = STAGES[0]
MAY_CONSENT = re.compile(
    r"^\s*(?:yes|yeah|yep|ok|okay|sure|please|let'?s|go ahead|move on)\b", re.I
)
# The quick-reply labels of the contract that a scripted seeker "clicks".
QUICK_REPLIES = (
    "Yes, that's right",
    "Not quite",
    "Move on",
    "Stay here",
    "Make my plan",
    "Take a break",
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def normalise(text: str) -> str:
    """Text as the checks compare it: lower case, typographic apostrophes and quotes
    made plain, runs of white space made one space."""
    plain = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(plain.casefold().split())


class RecordEntry(Strict):
    """One entry of a reflection record, flattened: its field, its text (for a
    likely cause, the evidence), and its cause key."""

    field: RecordField
    text: str = ""
    cause: str | None = None

    def shown(self) -> str:
        if self.field == "cause_unknown":
            return "cause_unknown: true"
        if self.cause:
            return f"likely_causes: {self.cause} ({self.text!r})"
        return f"{self.field}: {self.text!r}"


class RecordLabel(Strict):
    field: RecordField
    cause: Cause | None = None
    contains: tuple[str, ...] = ()

    @field_validator("contains", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _fits_its_field(self) -> RecordLabel:
        if self.cause is not None and self.field != "likely_causes":
            raise ValueError("only a likely_causes label names a cause")
        if self.field == "cause_unknown" and self.contains:
            raise ValueError("cause_unknown is true or false; it has no words")
        if any(not word.strip() for word in self.contains):
            raise ValueError("an empty word in `contains` would match anything")
        return self

    def matches(self, entry: RecordEntry) -> bool:
        if entry.field != self.field:
            return False
        if self.cause is not None and entry.cause != self.cause:
            return False
        if self.cause is not None and entry.text == CHOSEN_EVIDENCE:
            # The seeker picked the cause itself from the coach's choices: there are
            # no words of theirs to look for, and their choice is the evidence.
            return True
        text = normalise(entry.text)
        return not self.contains or any(normalise(word) in text for word in self.contains)

    def shown(self) -> str:
        parts = [self.field] + ([self.cause] if self.cause else [])
        words = (
            f" containing {' or '.join(repr(w) for w in self.contains)}" if self.contains else ""
        )
        return ": ".join(parts) + words


class RecordLabels(Strict):
    must: tuple[RecordLabel, ...] = ()
    may: tuple[RecordLabel, ...] = ()
    must_not: tuple[RecordLabel, ...] = ()


class PlanExpectation(Strict):
    horizon_weeks: Literal[2, 4, 8] = 4
    categories: tuple[Category, ...] = ()
    words: tuple[str, ...] = ()


class Turn(Strict):
    say: str = Field(min_length=1)
    consents: bool = False
    request: RequestKind | None = None
    language: Language | None = None
    safety: TurnSafety | None = None

    @property
    def permits_a_move(self) -> bool:
        """Whether the seeker allowed a stage change on this turn: they consented to
        moving on, asked for a stage, or asked for their plan."""
        return self.consents or self.request == "plan"


class Conversation(Strict):
    name: str
    title: str
    who: str
    language: Language = ENGLISH
    turns: tuple[Turn, ...] = Field(min_length=2)
    route: tuple[Stage, ...] = Field(min_length=1)
    record: RecordLabels = RecordLabels()
    mode: Mode = "guided"
    group: str = Field(default="coaching", pattern=r"^[a-z_]+$")
    causes: tuple[Cause, ...] | None = None
    paraphrase: str | None = None
    plan: PlanExpectation | None = None

    @property
    def asks_for_plan(self) -> bool:
        return self.plan is not None or any(turn.request == "plan" for turn in self.turns)

    @property
    def plan_expected(self) -> PlanExpectation:
        return self.plan or PlanExpectation()

    @model_validator(mode="after")
    def _route_fits_the_turns(self) -> Conversation:
        if self.route[0] != FIRST_STAGE:
            raise ValueError(f"a route starts where a session does, in {FIRST_STAGE!r}")
        moves = sum(
            1 for before, after in zip(self.route, self.route[1:], strict=False) if before != after
        )
        if any(before == after for before, after in zip(self.route, self.route[1:], strict=False)):
            raise ValueError("a route lists each stage change once (no stage twice in a row)")
        # A yes to the coach's move-on question consents too (`scoring`), so a turn
        # that could be one counts here.
        permitted = sum(
            1 for turn in self.turns if turn.permits_a_move or MAY_CONSENT.match(turn.say)
        )
        if moves > permitted:
            raise ValueError(
                f"the route moves {moves} times but only {permitted} turns permit a move"
            )
        return self

    def language_of(self, turn: Turn) -> str:
        return turn.language or self.language


def load_conversation(path: Path) -> Conversation:
    """One conversation file; a malformed one is an error that names the file."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
        return Conversation.model_validate({"name": path.stem, **data})
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


def load_conversations(folder: Path, only: tuple[str, ...] = ()) -> list[Conversation]:
    """Every conversation in `folder`, by name; `only` picks some by name."""
    paths = sorted(folder.glob("*.toml"))
    if only:
        unknown = set(only) - {p.stem for p in paths}
        if unknown:
            raise ValueError(f"no conversation named {', '.join(sorted(unknown))} in {folder}")
        paths = [p for p in paths if p.stem in only]
    if not paths:
        raise ValueError(f"no conversations (*.toml) in {folder}")
    return [load_conversation(path) for path in paths]
