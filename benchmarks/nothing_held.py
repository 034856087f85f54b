"""Nothing held while the model talks (issue 12, item 3): 64 streamed turns at once
through the coach under gunicorn with several worker processes on one SQLite file.

While the streams run, it reads the coach's `/metrics` (the pool's checkouts, as
`coach.metrics` counts them in every worker) and the fake model's `/stats` every
few milliseconds, and reports:

- database connections checked out while every stream (and while any stream) is
  open at the model: the most and the mean of the samples (the short
  transactions of turns still starting, or of a cancel check, show here);
- connections held longer than the model's time to its first token (a connection
  held across a model call could not be shorter; nor can one that waits that long
  for SQLite's write lock): target 0;
- "database is locked" errors (the coach's counter, and the workers' log), and
  turns refused with 503 `database_busy`: target 0.

Baseline in the same run: the same count of streams sent directly to the fake.

    python benchmarks/nothing_held.py            # 64 streams, 3 workers
    python benchmarks/nothing_held.py --small    # 4 streams, 2 workers
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from served_coach import (
    HOLD_SAMPLE,
    Pace,
    at_once,
    fake_model,
    median,
    scrape,
    seekers,
    served_coach,
    stream_direct,
    stream_turn,
)

IN_USE = "coach_database_connections_in_use"
HELD = "coach_database_connection_hold_seconds"
LOCKED = "coach_database_locked_errors_total"


class Sampler(threading.Thread):
    """Reads the coach's connections in use and the model's open streams, until stopped."""

    def __init__(self, read: Callable[[], tuple[float, int]], streams: int) -> None:
        super().__init__(daemon=True)
        self.read, self.streams = read, streams
        self.all_open: list[float] = []  # connections in use while every stream is open
        self.any_open: list[float] = []  # ... while at least one is
        self.every: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            in_use, open_streams = self.read()
            self.every.append(in_use)
            if open_streams:
                self.any_open.append(in_use)
            if open_streams >= self.streams:
                self.all_open.append(in_use)
            time.sleep(0.01)


# How long the background work after the streams may take before a connection
# still in use counts as held.
AFTER_RUN_WAIT_S = 10.0


def held_longer_than(samples: dict[str, float], seconds: float) -> int:
    """Checkouts whose hold exceeded `seconds`, from the histogram's buckets."""
    total = samples.get(f"{HELD}_count", 0.0)
    within = max(
        (
            value
            for name, value in samples.items()
            if (bound := HOLD_SAMPLE.match(name)) and float(bound.group(1)) <= seconds
        ),
        default=0.0,
    )
    return round(total - within)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="4 streams, 2 workers")
    parser.add_argument("--streams", type=int)
    parser.add_argument("--workers", type=int)
    args = parser.parse_args()
    streams = args.streams or (4 if args.small else 64)
    workers = args.workers or (2 if args.small else 3)
    pace = Pace(reply_tokens=30) if args.small else Pace()
    print(
        f"{streams} streams over {workers} workers on SQLite; fake model: "
        f"{pace.first_token_ms:.0f} ms to the first token, {pace.tokens_per_second:.0f} "
        f"tokens/s, {pace.reply_tokens} tokens a reply"
    )
    with fake_model(pace) as fake, served_coach(fake, "--workers", str(workers)) as served:
        people = seekers(served, streams)
        direct = at_once(streams, lambda _i: stream_direct(fake))
        before = scrape(served)

        def read() -> tuple[float, int]:
            return scrape(served).get(IN_USE, 0.0), int(fake.stats()["open_streams"])

        sampler = Sampler(read, streams)
        sampler.start()
        coach = at_once(streams, lambda i: stream_turn(served, *people[i]))
        sampler.done.set()
        sampler.join(timeout=10)
        # The last replies' stores and the background work they start finish on their
        # own time (longer on a busy machine): a connection still in use after that
        # is one held for good.
        deadline = time.monotonic() + AFTER_RUN_WAIT_S
        after = scrape(served)
        while after.get(IN_USE, 0.0) and time.monotonic() < deadline:
            time.sleep(0.1)
            after = scrape(served)
        log = served.log
    busy = sum(1 for t in coach if "database_busy" in t.error or t.error.startswith("503"))
    failed = sum(1 for t in coach if t.error or t.ending != "done")
    locked_counted = round(after.get(LOCKED, 0.0) - before.get(LOCKED, 0.0))
    locked_logged = len(re.findall(r"database is locked", log))
    threshold = pace.first_token_ms / 1000
    held = held_longer_than(after, threshold) - held_longer_than(before, threshold)
    checkouts = round(after.get(f"{HELD}_count", 0.0) - before.get(f"{HELD}_count", 0.0))
    coach_whole = median([t.whole for t in coach if t.whole])
    direct_whole = median([t.whole for t in direct if t.whole])
    all_open, any_open = sampler.all_open, sampler.any_open
    print(
        f"whole stream, median: coach {coach_whole * 1000:.0f} ms, direct "
        f"{direct_whole * 1000:.0f} ms, x{coach_whole / direct_whole:.2f}"
    )
    print(f"streams ended with done: {streams - failed} of {streams}; 503 database_busy: {busy}")
    for label, found in (
        (f"all {streams} streams", all_open),
        ("any stream", any_open),
    ):
        print(
            f"connections in use while {label} open at the model: {len(found)} samples, "
            f"most {max(found, default=0):.0f}, "
            f"mean {sum(found) / len(found) if found else 0:.2f}"
        )
    print(f"connection checkouts during the streams: {checkouts}")
    print(
        f"held longer than {threshold * 1000:.0f} ms (a model call): {held} (target 0: "
        f"{'met' if held == 0 else 'missed'})"
    )
    locked = max(locked_counted, locked_logged)
    print(
        f'"database is locked": {locked_counted} counted, {locked_logged} logged '
        f"(target 0: {'met' if locked == 0 and busy == 0 else 'missed'})"
    )
    print(f"after the run, connections in use: {after.get(IN_USE, 0.0):.0f}")
    return 1 if failed or not any_open else 0


if __name__ == "__main__":
    raise SystemExit(main())
