"""The suite's scores against issue 7's targets, and every failure behind them.

- Record precision: of all entries in the conversations' final records, the share
  that a `must` or `may` label accounts for and no `must_not` label forbids. An
  entry no label accounts for counts against precision: the labels list what the
  seeker said and confirmed, and the record should hold nothing else.
- Record recall: of all `must` labels, the share matched by an entry.
- Replies that open with a quote of the seeker (`checks.opens_with_quote`).
- Requests honoured in the same turn (`checks.unhonoured`).
- Messages in another language answered with that language's fixed line.
- Stage moves without consent: a reply whose stage differs from the stage before
  its turn, on a turn that neither consents to moving on (labelled, or a yes to the
  coach's "Move on" choice just offered) nor asks for the plan.
- Framework coverage: of all items in the frameworks' sections, the share whose
  name appears in at least one coach reply of the suite.
- Routes as labelled: informational, no target.

A ratio with nothing to count (no requests among the conversations run) meets its
target and shows as "n/a".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from coach.guide.frameworks import Frameworks
from coach.quality.cases import ENGLISH, RecordEntry, RecordLabel, Turn
from coach.quality.checks import (
    first_sentence,
    gives_language_line,
    opens_with_quote,
    reached,
    record_entries,
)
from coach.quality.checks import unhonoured as unhonoured_because
from coach.quality.transcripts import Exchange, Transcript

PRECISION_TARGET = 0.95
RECALL_TARGET = 0.80
COVERAGE_TARGET = 0.80
COVERAGE_NAME = "framework items that reached a seeker"
CRISIS_KINDS = ("crisis", "check_in")
NO_REFLECTION = (
    "The API returned no `reflection` for the sessions (not built yet?): every record "
    "was counted as empty."
)


@dataclass
class Ratio:
    hit: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.hit += int(ok)
        self.total += 1

    @property
    def share(self) -> float | None:
        return self.hit / self.total if self.total else None

    def at_least(self, target: float) -> bool:
        share = self.share
        return share is None or share >= target

    def shown(self) -> str:
        share = self.share
        if share is None:
            return "n/a (0/0)"
        return f"{share * 100:.1f} % ({self.hit}/{self.total})"


@dataclass(frozen=True)
class FrameworkItem:
    stage: str
    section: str
    name: str


def framework_items(frameworks: Frameworks) -> list[FrameworkItem]:
    """Every item of every section of every stage's framework."""
    return [
        FrameworkItem(framework.stage, section.key, item.name)
        for framework in frameworks.ordered
        for section in framework.sections
        for item in section.items
    ]


@dataclass(frozen=True)
class MetricResult:
    name: str
    value: str
    target: str
    met: bool | None  # None: no target


@dataclass
class Scorecard:
    conversations: int = 0
    replies: int = 0
    precision: Ratio = field(default_factory=Ratio)
    recall: Ratio = field(default_factory=Ratio)
    quote_openers: int = 0
    requests: Ratio = field(default_factory=Ratio)
    languages: Ratio = field(default_factory=Ratio)
    unconsented_moves: int = 0
    coverage: Ratio = field(default_factory=Ratio)
    routes: Ratio = field(default_factory=Ratio)
    unreached: list[FrameworkItem] = field(default_factory=list)
    failures: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def results(self) -> list[MetricResult]:
        return [
            MetricResult(
                "record precision",
                self.precision.shown(),
                f">= {PRECISION_TARGET:.0%}",
                self.precision.at_least(PRECISION_TARGET),
            ),
            MetricResult(
                "record recall",
                self.recall.shown(),
                f">= {RECALL_TARGET:.0%}",
                self.recall.at_least(RECALL_TARGET),
            ),
            MetricResult(
                "replies opening with a quote of the seeker",
                f"{self.quote_openers} of {self.replies}",
                "0",
                self.quote_openers == 0,
            ),
            MetricResult(
                "requests honoured in the same turn",
                self.requests.shown(),
                "100%",
                self.requests.at_least(1.0),
            ),
            MetricResult(
                "other languages given their fixed line",
                self.languages.shown(),
                "100%",
                self.languages.at_least(1.0),
            ),
            MetricResult(
                "stage moves without consent or request",
                str(self.unconsented_moves),
                "0",
                self.unconsented_moves == 0,
            ),
            MetricResult(
                COVERAGE_NAME,
                self.coverage.shown(),
                f">= {COVERAGE_TARGET:.0%}",
                self.coverage.at_least(COVERAGE_TARGET),
            ),
            MetricResult("stage routes as labelled", self.routes.shown(), "-", None),
        ]

    def targets_met(self, whole_suite: bool = True) -> bool:
        """Whether every target is met; coverage counts only when every case ran."""
        return all(
            result.met is not False
            for result in self.results()
            if whole_suite or result.name != COVERAGE_NAME
        )


def score(
    transcripts: Iterable[Transcript],
    items: list[FrameworkItem],
    language_lines: dict[str, str],
) -> Scorecard:
    """Score the transcripts against their conversations' labels."""
    card = Scorecard()
    replies: list[str] = []
    for transcript in transcripts:
        card.conversations += 1
        problems: list[str] = []
        if transcript.reflection is None and NO_REFLECTION not in card.notes:
            card.notes.append(NO_REFLECTION)
        _score_record(card, transcript, problems)
        conversation = transcript.conversation
        offered: tuple[str, ...] = ()
        crisis_said = False
        for number, (turn, exchange) in enumerate(
            zip(conversation.turns, transcript.exchanges, strict=True), start=1
        ):
            card.replies += 1
            replies.append(exchange.reply)
            language = conversation.language_of(turn)
            consented = turn.permits_a_move or answers_yes_to_moving_on(offered, turn.say)
            crisis_said = crisis_said or turn.safety == "crisis"
            found = _turn_problems(
                card, turn, exchange, language, language_lines, consented, crisis_said
            )
            offered = exchange.choices
            problems.extend(f"turn {number}: {problem}" for problem in found)
        route = transcript.route
        card.routes.add(route == list(conversation.route))
        if route != list(conversation.route):
            problems.append(f"route {' > '.join(route)}, labelled {' > '.join(conversation.route)}")
        if problems:
            card.failures[conversation.name] = problems
    for item in items:
        hit = reached(item.name, replies)
        card.coverage.add(hit)
        if not hit:
            card.unreached.append(item)
    return card


def _score_record(card: Scorecard, transcript: Transcript, problems: list[str]) -> None:
    labels = transcript.conversation.record
    entries = record_entries(transcript.reflection)
    for entry in entries:
        verdict = _judge(entry, labels.must + labels.may, labels.must_not)
        card.precision.add(verdict is None)
        if verdict:
            problems.append(verdict)
    for label in labels.must:
        found = any(label.matches(entry) for entry in entries)
        card.recall.add(found)
        if not found:
            problems.append(f"the record lacks {label.shown()}")


MOVE_ON_CHOICE = "Move on"
AFFIRMATIVE = re.compile(r"^\s*(?:yes|yeah|yep|ok|okay|sure|please|let'?s|go ahead)\b", re.I)


def answers_yes_to_moving_on(offered: tuple[str, ...], said: str) -> bool:
    """Consent the script did not label: the coach had just asked whether to move on
    (its choices offered "Move on") and the seeker picked it or said yes."""
    if MOVE_ON_CHOICE not in offered:
        return False
    return said.strip() == MOVE_ON_CHOICE or bool(AFFIRMATIVE.match(said))


def _judge(
    entry: RecordEntry, allowed: Iterable[RecordLabel], forbidden: Iterable[RecordLabel]
) -> str | None:
    """Why the entry should not be in the record; None when it should."""
    for label in forbidden:
        if label.matches(entry):
            return f"the record holds {entry.shown()}, which must not appear ({label.shown()})"
    if any(label.matches(entry) for label in allowed):
        return None
    return f"the record holds {entry.shown()}, which no label accounts for"


def _turn_problems(
    card: Scorecard,
    turn: Turn,
    exchange: Exchange,
    language: str,
    language_lines: dict[str, str],
    consented: bool,
    crisis_said: bool = False,
) -> list[str]:
    """Score one exchange into the card; what went wrong with it, in words."""
    problems = []
    if exchange.error:
        problems.append(f"no reply: {exchange.error}")
    if exchange.safety in CRISIS_KINDS and not crisis_said:
        # Only a turn labelled a crisis (and careful mode after it) may be answered so.
        problems.append(f"the crisis screen answered this turn ({exchange.safety})")
    if opens_with_quote(exchange.reply, exchange.said):
        card.quote_openers += 1
        problems.append(
            f"the reply opens with a quote of the seeker: {first_sentence(exchange.reply)!r}"
        )
    moved = exchange.stage_after != exchange.stage_before
    if moved and not consented:
        card.unconsented_moves += 1
        problems.append(
            f"the stage moved from {exchange.stage_before!r} to {exchange.stage_after!r} "
            "without consent or request"
        )
    if turn.request:
        why = unhonoured_because(
            turn.request, exchange.reply, exchange.stage_before, exchange.stage_after
        )
        card.requests.add(why is None)
        if why:
            problems.append(f"the {turn.request} request was not honoured: {why}")
    if language != ENGLISH:
        line = language_lines.get(language)
        given = gives_language_line(exchange.reply, line)
        card.languages.add(given)
        if not line:
            problems.append(f"no fixed line for {language!r} in prompts/guided.toml")
        elif not given:
            problems.append(f"the reply to a message in {language!r} lacks its fixed line")
    return problems
