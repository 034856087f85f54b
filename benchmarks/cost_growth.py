"""How the cost of a turn grows with the length of the conversation (issue 12, item 4).

One conversation of 200 turns through the coach (the JSON API, Flask's test client)
with the `openai` provider talking to the fake model (`fake_server.py`, in process,
answering at once). Every turn is in the same stage (the last, which never ends), so
that the figures measure the length of the conversation, not one stage's template
against another's. At turns 10, 50, 100 and 200 it reports the reply request's
prompt:

- its size in characters, as the fake model received it;
- its size in tokens, as the coach stored it from the server's `usage` with the reply;
- both as a ratio to turn 10 (target: turn 200 at most 1.5 times turn 10);
- what sending the whole history verbatim would have cost instead, as a ratio to the
  same at turn 10 and to what the coach sent (expected: about 20 times by turn 200);
- the time to build the prompt (median of repeated builds), as a ratio to turn 10.

Then the share of reply requests whose prefix (the system prompt and the first turn
after it, as the fake fingerprints them) is the same as the previous request's: a
provider's prompt cache reuses a repeated prefix (target: 80 % or more). The same
conversation is held again with turns folded one at a time (`COACH_FOLD_CHUNK=1`,
as before chunks) as the baseline: its prefix share, its growth, and the prompt
tokens of the whole conversation against it (chunks keep more turns verbatim
between folds, so they send somewhat more, most of it a prefix a cache reuses).

    python benchmarks/cost_growth.py            # 200 turns
    python benchmarks/cost_growth.py --small    # 40 turns, for CI
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from coach_on_fake import Seeker, StoredTurn, coach_on_fake

from coach.coaching.prompts import build_chat_prompt

FULL = (10, 50, 100, 200)
SMALL = (10, 20, 40)
STAGE = "plan"  # the last stage: no turn moves out of it
BUILD_REPEATS = 20
GROWTH_TARGET = 1.5
PREFIX_TARGET = 0.8
# What seekers say in the last stage, in turn: varied, and none asks for the plan.
SAYINGS = (
    "I keep going over what I said about the project I led in the second interview.",
    "Mornings are the hardest; I open my laptop and just stare at the job boards.",
    "My sister thinks I should take a week off before applying again.",
    "I could practise the case study questions with a friend on Thursdays.",
    "The recruiter said the other candidate had more experience with stakeholders.",
    "I want to rewrite my summary so it shows the results I delivered.",
    "Some days I feel fine and then a rejection email knocks me back.",
    "Maybe two applications a week is enough while I work on my portfolio.",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="40 turns, for CI")
    args = parser.parse_args()
    checkpoints = SMALL if args.small else FULL
    chunked = converse(checkpoints)
    # The baseline, in the same run: folding one turn at a time, as before.
    sliding = converse(checkpoints, COACH_FOLD_CHUNK=1)
    for run in (chunked, sliding):
        if len(run.stats["prompt_chars"]) != checkpoints[-1] or len(run.replies) != checkpoints[-1]:
            print(
                f"expected {checkpoints[-1]} replies, the fake saw {len(run.stats['prompt_chars'])}"
            )
            return 1
        if set(run.stages) != {STAGE}:
            print(f"the conversation left the stage {STAGE}: {sorted(set(run.stages))}")
            return 1
    report(checkpoints, chunked, sliding)
    return 0


@dataclass
class Conversation:
    """What one conversation sent: the fake's counters, the stored turns, the
    whole-history estimate per turn, the prompt build times at the checkpoints."""

    stats: dict[str, Any]
    replies: list[StoredTurn]
    whole: list[int]
    builds: dict[int, float]
    stages: list[str]

    def prefix_share(self) -> tuple[int, int]:
        digests = self.stats["prefix_digests"]
        return sum(a == b for a, b in pairwise(digests)), len(digests) - 1


def converse(checkpoints: tuple[int, ...], **settings: Any) -> Conversation:
    with coach_on_fake(**settings) as (fake, seeker):
        seeker.move_to(STAGE)
        builds: dict[int, float] = {}
        for turn in range(1, checkpoints[-1] + 1):
            seeker.say(f"{SAYINGS[turn % len(SAYINGS)]} (turn {turn})")
            if turn in checkpoints:
                builds[turn] = build_seconds(seeker)
        stats = fake.stats()
        return Conversation(
            stats,
            seeker.stored_turns(),
            whole_history_chars(seeker, stats["prompt_chars"]),
            builds,
            seeker.stages,
        )


def build_seconds(seeker: Seeker) -> float:
    """Median time to build the prompt for the newest seeker message."""
    last_user = seeker.stored_turns()[-1].message_id
    timings = []
    for _ in range(BUILD_REPEATS):
        started = time.perf_counter()
        build_chat_prompt(seeker.app, last_user)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def whole_history_chars(seeker: Seeker, sent: list[int]) -> list[int]:
    """Per turn: the prompt with every earlier message verbatim in place of the
    summary and the recent window. Estimated as the first turn's prompt (the
    instructions, the turn's note and a message, no history yet) plus the
    characters of every message before the turn's own."""
    whole, history = [], 0
    for stored in seeker.stored_turns():
        whole.append(sent[0] + history)
        history += stored.said_chars + stored.reply_chars
    return whole


def report(checkpoints: tuple[int, ...], run: Conversation, sliding: Conversation) -> None:
    chars = run.stats["prompt_chars"]
    tokens = [r.prompt_tokens or 0 for r in run.replies]
    whole, builds = run.whole, run.builds
    first = checkpoints[0] - 1
    print(f"prompt of one conversation against turn {checkpoints[0]} (same run; lower is better)")
    print(
        f"{'turn':>5} {'chars':>7} {'tokens':>7} {'chars x':>8} {'tokens x':>9} "
        f"{'whole chars':>12} {'whole x':>8} {'whole/sent':>11} {'build x':>8}"
    )
    for turn in checkpoints:
        i = turn - 1
        print(
            f"{turn:>5} {chars[i]:>7} {tokens[i]:>7} {chars[i] / chars[first]:>8.2f} "
            f"{tokens[i] / tokens[first]:>9.2f} {whole[i]:>12} {whole[i] / whole[first]:>8.2f} "
            f"{whole[i] / chars[i]:>11.2f} {builds[turn] / builds[checkpoints[0]]:>8.2f}"
        )
    last = checkpoints[-1] - 1
    growth = tokens[last] / tokens[first]
    same, compared = run.prefix_share()
    share = same / compared
    base_same, base_compared = sliding.prefix_share()
    base_tokens = [r.prompt_tokens or 0 for r in sliding.replies]
    print()
    print(
        f"tokens at turn {checkpoints[-1]} / turn {checkpoints[0]}: {growth:.2f} "
        f"(target <= {GROWTH_TARGET}: {'met' if growth <= GROWTH_TARGET else 'missed'}); "
        f"whole history instead: {whole[last] / whole[first]:.1f}"
    )
    print(
        f"prefix same as the previous request's: {same} of {compared} turns, "
        f"{share:.0%} (target >= {PREFIX_TARGET:.0%}: "
        f"{'met' if share >= PREFIX_TARGET else 'missed'})"
    )
    print(
        f"baseline, folding one turn at a time (COACH_FOLD_CHUNK=1): prefix same "
        f"{base_same} of {base_compared} turns, {base_same / base_compared:.0%}; tokens at turn "
        f"{checkpoints[-1]} / turn {checkpoints[0]}: {base_tokens[last] / base_tokens[first]:.2f}; "
        f"all prompt tokens: {sum(tokens) / sum(base_tokens):.2f} of the baseline's"
    )
    print(f"model requests by kind: {run.stats['by_kind']}; baseline: {sliding.stats['by_kind']}")


if __name__ == "__main__":
    sys.exit(main())
