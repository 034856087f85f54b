"""The serving benchmarks keep running: each one's small mode, in a process of its
own, exits 0 and prints its figures and verdicts. Their timings are read by people,
not asserted here; what is asserted is what must hold on any machine (no failed
stream, nothing left open, the partial stored, no "database is locked").

Most of each run is starting gunicorn and waiting on the fake model, so the three
run at once, each in a process of its own (`tests/small_benchmarks.py`)."""

from __future__ import annotations

import re

from tests.small_benchmarks import small_output

NUMBER = r"-?[\d.]+"
VERDICT = r"\(target [^)]*: (met|missed)\)"


def test_streaming_concurrency_small() -> None:
    output = small_output("streaming_concurrency.py")
    assert re.findall(r"^(\d+) concurrent streams", output, re.MULTILINE) == ["1", "4"]
    for row in ("first token", "first delta", "whole stream"):
        lines = re.findall(rf"^  {row}\s+coach\s+{NUMBER} /\s+{NUMBER}\s+direct", output, re.M)
        assert len(lines) == 2, output
    assert len(re.findall(VERDICT, output)) == 3
    assert "failed streams: 0" in output


def test_nothing_held_small() -> None:
    output = small_output("nothing_held.py")
    assert "streams ended with done: 4 of 4; 503 database_busy: 0" in output
    assert re.search(rf"held longer than \d+ ms \(a model call\): \d+ {VERDICT}", output)
    assert re.search(r'"database is locked": 0 counted, 0 logged \(target 0: met\)', output)
    assert "after the run, connections in use: 0" in output


def test_disconnect_small() -> None:
    output = small_output("disconnect.py")
    assert re.search(rf"^  coach\s+{NUMBER} /\s+{NUMBER} /\s+{NUMBER}\s+\(3 drops\)", output, re.M)
    assert re.search(rf"^  direct\s+{NUMBER} /", output, re.M)
    assert re.search(VERDICT, output)
    assert "partial replies stored: 3 of 3; streams left open: 0" in output
    assert "drops the fake never saw: 0" in output
