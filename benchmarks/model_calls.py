"""Model requests and tokens per turn (issue 12, item 5).

Walks scripted conversations through every stage with the `openai` provider talking
to the fake model (`fake_server.py`, in process, answering at once), through the
coach's JSON API (Flask's test client). The seeker's words are the eval suite's
cases that walk the whole route by consent (`evals/conversations/`), so the stage
moves are the ones the dialogue makes there. After each turn the background work is
waited for, so that every request a turn causes counts with it.

It prints, by kind (`reply`, `crisis_check`, `reflection_record`,
`record_and_summary` (a reading that rewrites the summary too), `rolling_summary` (a
rewrite on its own), `action_plan`): requests, requests per turn and prompt tokens
(as the fake counted them, four characters a token). Targets: one request per turn
on average (a turn that asks for the plan makes the plan's request in place of a
reply's), plus at most one record reading per stage change; the safety second look (`crisis_check`)
is counted apart, one per coached turn, as issue 6 asks of a configured model.
The baseline, measured in the same run, is the same walk with a record reading
after every turn (`COACH_RECORD_READING=every_turn`, the behaviour before).

    python benchmarks/model_calls.py            # five cases, twice
    python benchmarks/model_calls.py --small    # one case, twice, for CI
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coach_on_fake import coach_on_fake

from coach.quality.cases import Conversation, load_conversations

CASES = Path(__file__).resolve().parent.parent / "evals" / "conversations"
FULL = (
    "full_route_product_manager",
    "career_changer_money",
    "graduate_nerves",
    "junior_dev_mentor",
    "warehouse_stress_money",
)
SMALL = ("full_route_product_manager",)
KINDS = (
    "reply",
    "crisis_check",
    "reflection_record",
    "record_and_summary",
    "rolling_summary",
    "action_plan",
)
SAFETY = "crisis_check"
# A record reading alone, or with the summary's rewrite in the same request.
READINGS = ("reflection_record", "record_and_summary")


@dataclass
class Walk:
    """What the fake model was asked over some conversations."""

    turns: int = 0
    stage_changes: int = 0
    requests: Counter[str] | None = None
    tokens: Counter[str] | None = None
    plan_turns: int = 0
    plan_turn_requests: Counter[str] = field(default_factory=Counter)

    def add(self, turns: int, stage_changes: int, stats: dict[str, Any], seen: list[Any]) -> None:
        self.turns += turns
        self.stage_changes += stage_changes
        self.requests = (self.requests or Counter()) + Counter(stats["by_kind"])
        tokens: Counter[str] = Counter()
        for request in seen:
            tokens[request.kind] += request.prompt_tokens
        self.tokens = (self.tokens or Counter()) + tokens

    def per_turn(self, kind: str) -> float:
        return (self.requests or Counter())[kind] / self.turns

    def coaching_requests(self) -> int:
        """Every request but the safety second look."""
        counted = self.requests or Counter()
        return sum(n for kind, n in counted.items() if kind != SAFETY)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="one conversation, for CI")
    args = parser.parse_args()
    cases = load_conversations(CASES, SMALL if args.small else FULL)
    now = walk(cases, "stage_change")
    before = walk(cases, "every_turn")
    report(now, before)
    return 0


def walk(cases: list[Conversation], reading: str) -> Walk:
    totals = Walk()
    for case in cases:
        with coach_on_fake(COACH_RECORD_READING=reading) as (fake, seeker):
            for turn in case.turns:
                before = len(fake.counters.requests)
                seeker.say(turn.say)
                if turn.request == "plan":
                    # What a turn that asks for the plan costs: its own requests.
                    asked = fake.counters.requests[before:]
                    totals.plan_turns += 1
                    totals.plan_turn_requests.update(r.kind for r in asked)
            seen = list(fake.counters.requests)
            stats = fake.stats()
        route = list(dict.fromkeys(seeker.stages))
        if route != list(case.route):
            raise RuntimeError(f"{case.name} went {route}, not {list(case.route)}")
        changes = sum(a != b for a, b in zip(seeker.stages, seeker.stages[1:], strict=False))
        totals.add(len(case.turns), changes, stats, seen)
    return totals


def report(now: Walk, before: Walk) -> None:
    print(
        f"model requests over {now.turns} turns with {now.stage_changes} stage changes "
        "(same run; baseline: a record reading after every turn)"
    )
    print(
        f"{'kind':<18} {'requests':>8} {'per turn':>9} {'tokens':>8} {'tokens/turn':>12} "
        f"{'baseline':>9} {'base/turn':>10} {'base tokens':>12}"
    )
    for kind in KINDS:
        n, b = (now.requests or Counter())[kind], (before.requests or Counter())[kind]
        t, bt = (now.tokens or Counter())[kind], (before.tokens or Counter())[kind]
        print(
            f"{kind:<18} {n:>8} {n / now.turns:>9.2f} {t:>8} {t / now.turns:>12.0f} "
            f"{b:>9} {b / before.turns:>10.2f} {bt:>12}"
        )
    total, base_total = (
        sum((now.tokens or Counter()).values()),
        sum((before.tokens or Counter()).values()),
    )
    print(
        f"{'all':<18} {sum((now.requests or Counter()).values()):>8} "
        f"{sum((now.requests or Counter()).values()) / now.turns:>9.2f} {total:>8} "
        f"{total / now.turns:>12.0f} {sum((before.requests or Counter()).values()):>9} "
        f"{sum((before.requests or Counter()).values()) / before.turns:>10.2f} {base_total:>12}"
    )
    print()
    allowed = 1 + now.stage_changes / now.turns
    coaching = now.coaching_requests() / now.turns
    readings = sum((now.requests or Counter())[kind] for kind in READINGS)
    print(
        f"requests per turn without the safety second look: {coaching:.2f} "
        f"(target <= 1 + stage changes / turns = {allowed:.2f}: "
        f"{'met' if coaching <= allowed else 'missed'}); baseline "
        f"{before.coaching_requests() / before.turns:.2f}"
    )
    print(
        f"record readings: {readings} for {now.stage_changes} stage changes "
        f"(target <= 1 each: {'met' if readings <= now.stage_changes else 'missed'})"
    )
    print(
        f"safety second looks per turn: {now.per_turn(SAFETY):.2f} (one per coached turn, "
        "issue 6; counted apart)"
    )
    asked = ", ".join(f"{kind} {n}" for kind, n in sorted(now.plan_turn_requests.items()))
    print(
        f"turns that ask for the plan: {now.plan_turns}, their requests: {asked or 'none'} "
        "(the plan is the reply: no `reply` request of its own)"
    )
    print(f"prompt tokens, all requests: {total / base_total:.2f} of the baseline's")


if __name__ == "__main__":
    sys.exit(main())
