"""The suite's results for people: a plain table with the failures below it for the
terminal, and the same as Markdown, with every transcript, for the report file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from coach.guide.frameworks import STAGES
from coach.quality.scoring import MetricResult, Scorecard
from coach.quality.suite_checks import CHECKS, CheckResult
from coach.quality.transcripts import Transcript


@dataclass
class SuiteOutcome:
    """The checks' results and what else went wrong with the run as a whole."""

    label: str
    results: list[CheckResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and all(r.passed for r in self.results)


HEADINGS = ("metric", "value", "target", "met")


def _met(result: MetricResult) -> str:
    return {True: "yes", False: "NO", None: "-"}[result.met]


def _rows(card: Scorecard) -> list[tuple[str, str, str, str]]:
    return [(r.name, r.value, r.target, _met(r)) for r in card.results()]


def text_table(card: Scorecard) -> str:
    rows = [HEADINGS, *_rows(card)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADINGS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def text_summary(card: Scorecard) -> str:
    """The table, the notes, then each conversation's failures."""
    parts = [
        f"{card.conversations} conversations, {card.replies} replies",
        "",
        text_table(card),
    ]
    parts += [f"\nNote: {note}" for note in card.notes]
    if card.failures:
        parts.append("\nFailures:")
        for name, problems in card.failures.items():
            parts.append(f"  {name}")
            parts += [f"    - {problem}" for problem in problems]
    parts.append("\nAll targets met." if card.targets_met() else "\nSome targets were missed.")
    return "\n".join(parts)


def markdown_report(
    card: Scorecard, transcripts: Iterable[Transcript], outcome: SuiteOutcome | None = None
) -> str:
    lines = [
        "# Conversation-quality suite (`coach eval`)",
        "",
        f"{card.conversations} conversations, {card.replies} replies. "
        + ("All targets met." if card.targets_met() else "**Some targets were missed.**"),
        "",
        "| " + " | ".join(HEADINGS) + " |",
        "|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(card)]
    lines += ["", *(f"> {note}\n" for note in card.notes)]
    if outcome is not None:
        lines += checks_markdown(outcome)
    if card.unreached:
        lines += ["## Framework items no seeker met", ""]
        lines += [f"- {item.stage} / {item.section}: {item.name}" for item in card.unreached]
        lines.append("")
    lines += ["## Failures by conversation", ""]
    if not card.failures:
        lines += ["None.", ""]
    for name, problems in card.failures.items():
        lines += [f"### {name}", "", *(f"- {_inline(problem)}" for problem in problems), ""]
    lines += ["## Transcripts", ""]
    for transcript in transcripts:
        lines += _transcript(transcript)
    return "\n".join(lines).rstrip() + "\n"


def _transcript(transcript: Transcript) -> list[str]:
    conversation = transcript.conversation
    lines = [
        "<details>",
        f"<summary>{conversation.name}: {conversation.title}</summary>",
        "",
        f"*{conversation.who}*",
        "",
    ]
    for number, exchange in enumerate(transcript.exchanges, start=1):
        lines += [f"**{number}. Seeker:** {_inline(exchange.said)}", ""]
        stage = exchange.stage_after
        if exchange.stage_after != exchange.stage_before:
            stage = f"{exchange.stage_before} → {exchange.stage_after}"
        reply = exchange.error or exchange.reply
        shaped = f", safety: {exchange.safety}" if exchange.safety else ""
        if exchange.served:
            shaped += ", model calls: " + ", ".join(s.purpose for s in exchange.served)
        lines += [f"**Coach** ({stage}{shaped}):", "", *_indented(reply), ""]
        if exchange.choices:
            lines += ["Choices: " + " · ".join(f"`{choice}`" for choice in exchange.choices), ""]
    record = transcript.reflection
    lines += [f"Record: `{record}`" if record is not None else "Record: (none in the API)", ""]
    if transcript.plan is not None:
        goals = transcript.plan.get("goals") or []
        lines += [
            "Plan: " + "; ".join(f"{g['category']}: {_inline(g['title'])}" for g in goals),
            "",
        ]
    elif transcript.plan_error:
        lines += [f"Plan: none ({_inline(transcript.plan_error)})", ""]
    return [*lines, "</details>", ""]


def _indented(text: str) -> list[str]:
    # As a quoted block, so that the coach's own Markdown stays inside its turn.
    return [f"> {line}".rstrip() for line in text.splitlines()] or [">"]


def _inline(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# The checks of issue 9: pass rates by stage and by case group --------------------------


def _rate(results: list[CheckResult]) -> str:
    if not results:
        return "-"
    passed = sum(r.passed for r in results)
    return f"{passed}/{len(results)}" + ("" if passed == len(results) else " !")


def check_rows(results: list[CheckResult]) -> tuple[list[list[str]], list[list[str]]]:
    """Two tables: checks by stage (with the overall rate), and groups by check."""
    by_stage = [["check", "overall", *STAGES]]
    for check in CHECKS:
        mine = [r for r in results if r.check == check]
        by_stage.append(
            [check, _rate(mine), *(_rate([r for r in mine if r.stage == s]) for s in STAGES)]
        )
    by_stage.append(
        ["all", _rate(results), *(_rate([r for r in results if r.stage == s]) for s in STAGES)]
    )
    groups = sorted({r.group for r in results})
    by_group = [["group", *CHECKS, "all"]]
    for group in groups:
        mine = [r for r in results if r.group == group]
        by_group.append(
            [group, *(_rate([r for r in mine if r.check == c]) for c in CHECKS), _rate(mine)]
        )
    return by_stage, by_group


def plain_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(rows[0]) + " |",
        "|" + "---|" * len(rows[0]),
        *("| " + " | ".join(row) + " |" for row in rows[1:]),
    ]


def checks_summary(outcome: SuiteOutcome) -> str:
    by_stage, by_group = check_rows(outcome.results)
    parts = [
        f"\nChecks ({outcome.label}): each check's passes by stage, then by case group",
        "",
        plain_table(by_stage),
        "",
        plain_table(by_group),
    ]
    parts += ["", *outcome.notes] if outcome.notes else []
    failed = [r for r in outcome.results if not r.passed]
    if failed:
        parts.append("\nFailed checks:")
        parts += [f"  {r.case} [{r.check}, {r.stage}]: {r.detail}" for r in failed]
    if outcome.problems:
        parts.append("\nSuite problems:")
        parts += [f"  - {problem}" for problem in outcome.problems]
    return "\n".join(parts)


def checks_markdown(outcome: SuiteOutcome) -> list[str]:
    by_stage, by_group = check_rows(outcome.results)
    lines = ["## Checks", "", f"Model replies from: {outcome.label}.", ""]
    lines += ["### By stage", "", *markdown_table(by_stage), ""]
    lines += ["### By case group", "", *markdown_table(by_group), ""]
    lines += [f"> {note}\n" for note in outcome.notes]
    failed = [r for r in outcome.results if not r.passed]
    lines += ["### Failed checks", ""]
    lines += [f"- {r.case} [{r.check}, {r.stage}]: {_inline(r.detail)}" for r in failed] or [
        "None."
    ]
    lines.append("")
    if outcome.problems:
        lines += ["### Suite problems", "", *(f"- {_inline(p)}" for p in outcome.problems), ""]
    return lines
