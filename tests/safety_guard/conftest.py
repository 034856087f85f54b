"""The output guard as shipped, loaded once for the guard's tests, and a helper
that streams a reply through it in random pieces."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from coach.safety.output_guard import GuardVerdict, OutputGuard, UnsafeReply

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@pytest.fixture(scope="session")
def guard() -> OutputGuard:
    return OutputGuard.load(PROMPTS)


def random_deltas(text: str, rng: random.Random) -> Iterator[str]:
    """`text` cut the way a model might stream it: pieces of 0 to 12 characters."""
    position = 0
    while position < len(text):
        size = rng.choice((0, 1, 1, 2, 3, 4, 5, 8, 12))
        yield text[position : position + size]
        position += size


def stream_reply(guard: OutputGuard, text: str, seed: int) -> tuple[str, GuardVerdict | None]:
    """Everything the stream released, and the verdict it stopped with (None if ok)."""
    stream = guard.stream()
    shown: list[str] = []
    try:
        for delta in random_deltas(text, random.Random(seed)):
            shown.append(stream.feed(delta))
        shown.append(stream.finish())
    except UnsafeReply as unsafe:
        return "".join(shown), unsafe.verdict
    return "".join(shown), None
