"""The overhead benchmarks keep running: each one's small mode, in a process of its
own, exits 0 and prints its table and its verdicts. Their figures are read by
people (the machines are shared and noisy), not asserted here."""

from __future__ import annotations

import re

from tests.small_benchmarks import small_output

NUMBER = r"[\d.]+"


def test_turn_overhead_small():
    output = small_output("turn_overhead.py")
    rows = [line.split() for line in output.splitlines() if re.match(r"\s+\d+\s+\d+\s", line)]
    assert [row[0] for row in rows] == ["0", "200"]
    assert all(len(row) == 9 and row[1] == "8" for row in rows)
    # A turn waits for the model: at 200 ms neither way can be quicker than that.
    assert float(rows[1][2]) >= 200 and float(rows[1][4]) >= 200
    assert re.search(rf"at 0 ms: the coach adds -?{NUMBER} ms a turn", output)
    assert re.search(rf"at 200 ms: coach / direct {NUMBER} at the median", output)
    # Each coach turn asked for one streamed reply, as did each direct request.
    assert re.search(
        r"at 200 ms, model requests a turn \(direct ones included\): reply 2.00", output
    )
    assert re.search(rf"CPU a turn: the coach's worker {NUMBER} ms", output)


def test_relay_cpu_small():
    output = small_output("relay_cpu.py")
    ways = [line[:22].strip() for line in output.splitlines() if re.search(r"\d+\s+[\d.]+$", line)]
    assert ways == ["floor (httpx2 + json)", "openai Stream", "provider", "Reply"]
    assert re.search(rf"provider per chunk: {NUMBER} x the floor", output)
    assert re.search(rf"Reply per chunk: {NUMBER} x the floor", output)
