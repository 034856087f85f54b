"""The observable behaviour the suite checks, one function per rule, each on plain
text so that the tests can hold it against hand-made replies.

The definitions are those of issue 7's contract:

- a reply opens with a quote of the seeker when it starts with a quote mark, or
  when its first sentence holds a run of five or more consecutive words of the
  seeker's last message;
- a plan request is honoured when the reply's stage is `plan`; a request for help
  answering the recruiter when the reply holds a Markdown blockquote draft (lines
  starting "> ") that says "thank" and "feedback"; a request for a break when the
  reply says the conversation is "kept" and the stage stays where it was;
- a message in another language is answered with that language's fixed line;
- a framework item reached a seeker when its name appears in a coach reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import cast, get_args

from coach.quality.cases import RecordEntry, RecordField, RequestKind, normalise

QUOTE_RUN = 5
# Straight, typographic and low quotes, guillemets and corner brackets.
QUOTE_MARKS = "\"'\u201c\u201d\u2018\u2019\u201e\u201a\u00ab\u00bb\u2039\u203a\u300c\u300e"
# Markdown emphasis and heading marks are not words: "**“idk.”**" still opens with a quote.
LEADING_MARKUP = re.compile(r"^[\s*_#]+")
# Up to the first stop, with the quote marks or brackets that close it.
SENTENCE = re.compile(r".*?[.!?\u2026][\u201d\u2019\"'*_)]*(?=\s|$)")
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
BLOCKQUOTE_LINE = re.compile(r"^\s*>\s?(.*)$")
# The record fields that hold a list of plain strings.
LISTED_FIELDS = set(get_args(RecordField)) - {"likely_causes", "cause_unknown"}


def words(text: str) -> list[str]:
    return WORD.findall(normalise(text))


def first_sentence(text: str) -> str:
    line = LEADING_MARKUP.sub("", text).split("\n", 1)[0]
    match = SENTENCE.match(line)
    return (match.group(0) if match else line).strip().rstrip("*_")


def opens_with_quote(reply: str, said: str) -> bool:
    """Whether the reply opens by quoting the seeker's message back."""
    opening = first_sentence(reply)
    if opening[:1] in QUOTE_MARKS and opening[:1]:
        return True
    return shares_a_run(words(opening), words(said), QUOTE_RUN)


def shares_a_run(text: list[str], source: list[str], length: int) -> bool:
    """Whether `text` holds `length` or more consecutive words of `source`."""
    if len(source) < length or len(text) < length:
        return False
    runs = {tuple(source[i : i + length]) for i in range(len(source) - length + 1)}
    return any(tuple(text[i : i + length]) in runs for i in range(len(text) - length + 1))


def blockquote_draft(reply: str) -> str:
    """The text of the reply's blockquote lines, joined: the draft it offers."""
    lines = [BLOCKQUOTE_LINE.match(line) for line in reply.splitlines()]
    return "\n".join(match.group(1) for match in lines if match)


def unhonoured(kind: RequestKind, reply: str, stage_before: str, stage_after: str) -> str | None:
    """Why the reply does not honour the request; None when it does."""
    if kind == "plan":
        return None if stage_after == "plan" else f"stage is {stage_after!r}, not 'plan'"
    if kind == "recruiter":
        draft = normalise(blockquote_draft(reply))
        if not draft:
            return "no blockquote draft (lines starting '> ')"
        missing = [word for word in ("thank", "feedback") if word not in draft]
        return f"the draft lacks {' and '.join(missing)}" if missing else None
    # A break: the conversation is kept, and the stage stays.
    problems = []
    if "kept" not in normalise(reply):
        problems.append("the reply does not say the conversation is kept")
    if stage_after != stage_before:
        problems.append(f"the stage moved from {stage_before!r} to {stage_after!r}")
    return "; ".join(problems) or None


def gives_language_line(reply: str, line: str | None) -> bool:
    return bool(line) and normalise(line or "") in normalise(reply)


def reached(name: str, replies: Iterable[str]) -> bool:
    wanted = normalise(name)
    return any(wanted in normalise(reply) for reply in replies)


def record_entries(reflection: dict[str, object] | None) -> list[RecordEntry]:
    """The reflection record of the API, flattened into entries; fields the suite
    does not know are left out, and so is a `cause_unknown` that is false."""
    if not reflection:
        return []
    entries: list[RecordEntry] = []
    for field, value in reflection.items():
        if field == "cause_unknown":
            if value is True:
                entries.append(RecordEntry(field="cause_unknown"))
        elif field == "likely_causes" and isinstance(value, list):
            entries.extend(
                RecordEntry(
                    field="likely_causes",
                    text=str(item.get("evidence", "")),
                    cause=str(item.get("cause", "")),
                )
                for item in value
                if isinstance(item, dict)
            )
        elif field in LISTED_FIELDS and isinstance(value, list):
            listed = cast(RecordField, field)
            entries.extend(RecordEntry(field=listed, text=str(item)) for item in value)
    return entries
