"""The turn-cost benchmarks keep running: each one's small mode, in a process of its own,
exits 0 and prints its table and its structural facts (the prefix share, requests
per turn). Their figures are read by people, not asserted here."""

from __future__ import annotations

import re

from tests.small_benchmarks import small_output


def test_cost_growth_small():
    output = small_output("cost_growth.py")
    rows = [line.split() for line in output.splitlines() if re.match(r"\s+\d+\s+\d+", line)]
    assert [row[0] for row in rows] == ["10", "20", "40"]
    assert all(len(row) == 9 for row in rows)
    # Turn 10 is the baseline: its ratios are 1.
    assert rows[0][3:5] == ["1.00", "1.00"]
    # Tokens come from the usage the coach stored: a number for every checkpoint.
    assert all(int(row[2]) > 0 for row in rows)
    share = re.search(r"prefix same as the previous request's: (\d+) of (\d+) turns", output)
    assert share and int(share.group(2)) == 39
    assert re.search(r"tokens at turn 40 / turn 10: [\d.]+ \(target <= 1.5", output)
    assert "'reply': 40" in output


def test_model_calls_small():
    output = small_output("model_calls.py")
    kinds = [line.split()[0] for line in output.splitlines() if re.match(r"[a-z_]+\s+\d+\s", line)]
    assert kinds == [
        "reply",
        "crisis_check",
        "reflection_record",
        "record_and_summary",
        "rolling_summary",
        "action_plan",
        "all",
    ]
    assert re.search(r"requests per turn without the safety second look: [\d.]+", output)
    readings = re.search(r"record readings: (\d+) for (\d+) stage changes", output)
    assert readings and int(readings.group(2)) == 4
    assert re.search(r"safety second looks per turn: [\d.]+", output)
