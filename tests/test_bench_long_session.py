"""The long-session benchmark keeps running: its small mode, in a process of its own,
exits 0 and prints its table for 10, 200 and 500 messages and the ratio of 500 to
10, for the coach and for the old way. The figures are read by people; what is
asserted is their shape, and that the baseline (every message rendered on every
read) costs more at 500 messages than the coach does."""

from __future__ import annotations

import re

from tests.small_benchmarks import small_output


def test_long_session_small():
    output = small_output("long_session.py")
    rows = [line.split() for line in output.splitlines() if re.match(r"\s+\d+\s+[\d.]+\s", line)]
    assert [row[0] for row in rows] == ["10", "200", "500"]
    assert all(len(row) == 6 for row in rows)
    now_500, old_500 = float(rows[2][1]), float(rows[2][3])
    assert old_500 > now_500
    assert re.search(
        r"ratio 500/10 messages, now \(a page, HTML as stored\): [\d.]+"
        r" \(target <= 2: (met|missed)\)",
        output,
    )
    assert re.search(r"ratio 500/10 messages, old \(all, rendered\): [\d.]+", output)
    assert re.search(r"rendering a reply's HTML when it is stored: median \d+ us", output)
