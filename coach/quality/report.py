"""The suite's results for people: a plain table with the failures below it for the
terminal, and the same as Markdown, with every transcript, for the report file."""

from __future__ import annotations

from collections.abc import Iterable

from coach.quality.scoring import MetricResult, Scorecard
from coach.quality.transcripts import Transcript

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
        f"{card.conversations} conversations, {card.replies} replies (guided mode)",
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


def markdown_report(card: Scorecard, transcripts: Iterable[Transcript]) -> str:
    lines = [
        "# Conversation-quality suite (`coach eval`)",
        "",
        f"{card.conversations} conversations, {card.replies} replies, guided mode. "
        + ("All targets met." if card.targets_met() else "**Some targets were missed.**"),
        "",
        "| " + " | ".join(HEADINGS) + " |",
        "|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(card)]
    lines += ["", *(f"> {note}\n" for note in card.notes)]
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
        lines += [f"**Coach** ({stage}{shaped}):", "", *_indented(reply), ""]
        if exchange.choices:
            lines += ["Choices: " + " · ".join(f"`{choice}`" for choice in exchange.choices), ""]
    record = transcript.reflection
    lines += [f"Record: `{record}`" if record is not None else "Record: (none in the API)", ""]
    return [*lines, "</details>", ""]


def _indented(text: str) -> list[str]:
    # As a quoted block, so that the coach's own Markdown stays inside its turn.
    return [f"> {line}".rstrip() for line in text.splitlines()] or [">"]


def _inline(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
