"""Recorded model replies for the suite's `openai` path: one cassette file per case
under `evals/cassettes/`, the case's model calls in the order they are made.

Each call is keyed by a hash of the exact request (model, messages and every
parameter), so that a changed prompt finds no recording and the run fails loudly.
A call also says where it belongs: the case's turn (1-based, or `plan` for the
plan asked for after the last turn), its purpose (the JSON schema's name, or
`reply` for the coach's words, streamed or whole) and its place among the calls of that
turn and purpose. That place is what `coach eval --rekey` matches on when the
keys move after a deliberate prompt change, so that fewer or more calls of
another purpose in a turn do not shift anything.

A cassette is `hand-written` (written as a capable model would answer, while no
real model is reachable) or `recorded` (by `coach eval --live --record`); only
hand-written ones are ever re-keyed. A call may carry `unsafe = "<kind>"`: a
reply written wrong on purpose, which the output guard must stop.

Files are TOML, written here by a small writer of this one shape (the standard
library reads TOML but does not write it); the texts are literal strings, so that
a person can edit them without escapes.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

Source = Literal["hand-written", "recorded"]
Turn = int | Literal["plan"]
REPLY = "reply"
PLAN_TURN = "plan"
KEY_CHARS = 24
# A purpose's stock answer: what a capable model answers when nothing needs adding
# (no record entries, no crisis; a summary no check reads). `--rekey` writes one
# where a new call appears.
STOCK_ANSWERS = {
    "reflection_record": "{}",
    "crisis_check": '{"crisis": false}',
    "rolling_summary": '{"summary": "They are talking through a job rejection after a second'
    ' interview: how they feel, what may have caused it and what to do next."}',
    # A stage's reading that rewrites the summary too: nothing to add, the same summary.
    "record_and_summary": '{"reading": {}, "summary": "They are talking through a job rejection'
    ' after a second interview: how they feel, what may have caused it and what to do next."}',
}


def request_key(body: dict[str, Any]) -> str:
    """The hash of the exact request: everything the client sent in the body."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:KEY_CHARS]


def request_purpose(body: dict[str, Any]) -> str:
    """What the call is for: its JSON schema's name, or `reply` for the chat reply."""
    response_format = body.get("response_format") or {}
    name = (response_format.get("json_schema") or {}).get("name")
    return str(name) if name else REPLY


@dataclass(frozen=True)
class Call:
    """One model call of a case and the text the model answered."""

    turn: Turn
    purpose: str
    key: str
    text: str
    unsafe: str | None = None
    note: str | None = None


@dataclass
class Cassette:
    case: str
    source: Source
    model: str
    calls: list[Call] = field(default_factory=list)

    def slot(self, turn: Turn, purpose: str, place: int) -> Call | None:
        """The `place`-th (0-based) call of this turn and purpose."""
        matching = [c for c in self.calls if c.turn == turn and c.purpose == purpose]
        return matching[place] if place < len(matching) else None

    def by_key(self, key: str) -> Call | None:
        return next((c for c in self.calls if c.key == key), None)

    def rekeyed(self, old: Call, key: str) -> Call:
        new = replace(old, key=key)
        self.calls[self.calls.index(old)] = new
        return new


def cassette_path(folder: Path, case: str) -> Path:
    return folder / f"{case}.toml"


def load_cassette(path: Path) -> Cassette:
    """One cassette file; a malformed one is an error that names the file."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
        source = data["source"]
        if source not in ("hand-written", "recorded"):
            raise ValueError(f"source must be hand-written or recorded, not {source!r}")
        calls = [
            Call(
                turn=raw["turn"],
                purpose=str(raw["purpose"]),
                key=str(raw.get("key", "")),
                text=str(raw["text"]),
                unsafe=raw.get("unsafe"),
                note=raw.get("note"),
            )
            for raw in data.get("calls", [])
        ]
        for call in calls:
            if call.turn != PLAN_TURN and not (isinstance(call.turn, int) and call.turn >= 1):
                raise ValueError(f"a call's turn is a number from 1 or 'plan', not {call.turn!r}")
        return Cassette(str(data["case"]), source, str(data["model"]), calls)
    except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


def load_cassettes(folder: Path) -> dict[str, Cassette]:
    if not folder.is_dir():
        return {}
    return {path.stem: load_cassette(path) for path in sorted(folder.glob("*.toml"))}


def _literal(text: str) -> str:
    """A TOML string that reads back as `text`: literal where it can be, else escaped."""
    if "'''" not in text and "\r" not in text and not text.endswith("'"):
        return "'''\n" + text + "'''"
    return json.dumps(text, ensure_ascii=False)


def dump_cassette(cassette: Cassette) -> str:
    origin = (
        "Written by hand as a capable model would answer (no model was reachable);"
        " `coach eval --live --record` replaces them."
        if cassette.source == "hand-written"
        else "Recorded from a live model by `coach eval --live --record`."
    )
    lines = [
        f"# The model calls of the case `{cassette.case}`, in the order they are made.",
        f"# {origin}",
        f"case = {json.dumps(cassette.case)}",
        f"source = {json.dumps(cassette.source)}",
        f"model = {json.dumps(cassette.model)}",
    ]
    for call in cassette.calls:
        turn = json.dumps(call.turn)
        lines += ["", "[[calls]]", f"turn = {turn}", f"purpose = {json.dumps(call.purpose)}"]
        lines.append(f"key = {json.dumps(call.key)}")
        if call.unsafe:
            lines.append(f"unsafe = {json.dumps(call.unsafe)}")
        if call.note:
            lines.append(f"note = {json.dumps(call.note, ensure_ascii=False)}")
        lines.append(f"text = {_literal(call.text)}")
    return "\n".join(lines) + "\n"


PURPOSE_ORDER = (
    "reply",
    "reflection_record",
    "record_and_summary",
    "crisis_check",
    "rolling_summary",
    "action_plan",
)


def _reading_order(call: Call) -> tuple[int, int]:
    """Turn by turn, the plan last; within a turn the reply first (a stable sort
    keeps the order of calls of one purpose)."""
    turn = call.turn if isinstance(call.turn, int) else 10**6
    purpose = PURPOSE_ORDER.index(call.purpose) if call.purpose in PURPOSE_ORDER else 99
    return turn, purpose


def save_cassette(folder: Path, cassette: Cassette) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cassette.calls.sort(key=_reading_order)
    cassette_path(folder, cassette.case).write_text(dump_cassette(cassette), "utf-8")
