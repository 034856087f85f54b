"""Streaming under concurrency (issue 12, item 2): 1, 16 and 64 streamed turns at
once through the coach served as it ships (gunicorn, `gunicorn.conf.py`), against
the same streamed request sent directly to the fake model with the `openai` client,
as many at once. Prints the median and p95 of the time to the first delta and to
the stream's end, the coach minus direct, and the ratio.

The coach's output guard releases a reply sentence by sentence, so its first delta
is the reply's first sentence: the direct baseline for "first delta" is the moment
the direct stream holds a whole sentence and the start of the next (the first
token's time is printed too, as "first token").

Targets at 64 streams: first delta within 30 ms of direct at the median and 100 ms
at p95; whole stream within 5 %.

    python benchmarks/streaming_concurrency.py           # 1, 16, 64 streams
    python benchmarks/streaming_concurrency.py --small   # 1 and 4, a short reply
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from served_coach import (
    Pace,
    Timing,
    at_once,
    median,
    percentile,
    seekers,
    stream_direct,
    stream_turn,
    warmed_up,
)

FIRST_MEDIAN_MS, FIRST_P95_MS, WHOLE_RATIO = 30.0, 100.0, 1.05


def figures(timings: list[Timing]) -> tuple[list[float], list[float], int]:
    """First delta (directly: the first sentence, see `Timing`), whole stream, failures."""
    failed = sum(1 for t in timings if t.error or t.first_delta is None or t.whole is None)
    first = [
        t.first_sentence or t.first_delta
        for t in timings
        if t.first_delta is not None and not t.error
    ]
    whole = [t.whole for t in timings if t.whole is not None and not t.error]
    return first, whole, failed


def row(label: str, coach: list[float], direct: list[float]) -> tuple[str, float, float]:
    """One line: medians, p95s, coach minus direct (ms) and coach / direct."""
    cm, dm = median(coach), median(direct)
    cp, dp = percentile(coach, 0.95), percentile(direct, 0.95)
    line = (
        f"  {label:<12} coach {cm * 1000:7.0f} / {cp * 1000:7.0f}   "
        f"direct {dm * 1000:7.0f} / {dp * 1000:7.0f}   "
        f"+{(cm - dm) * 1000:5.0f} / +{(cp - dp) * 1000:5.0f} ms   "
        f"x{cm / dm:5.2f} / x{cp / dp:5.2f}"
    )
    return line, (cm - dm) * 1000, (cp - dp) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="1 and 4 streams, 20 tokens")
    parser.add_argument("--streams", type=int, nargs="*", help="concurrency levels")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each level")
    args = parser.parse_args()
    levels = args.streams or ([1, 4] if args.small else [1, 16, 64])
    pace = Pace(reply_tokens=20) if args.small else Pace()
    print(
        f"fake model: {pace.first_token_ms:.0f} ms to the first token, "
        f"{pace.tokens_per_second:.0f} tokens/s, {pace.reply_tokens} tokens a reply"
    )
    print("times in ms, median / p95; coach minus direct; coach / direct")
    verdicts: list[str] = []
    failures = 0
    with warmed_up(pace) as (fake, served):
        for level in levels:
            coach: list[Timing] = []
            direct: list[Timing] = []
            for _ in range(args.rounds):
                people = seekers(served, level)
                direct += at_once(level, lambda _i: stream_direct(fake))
                coach += at_once(level, lambda i, people=people: stream_turn(served, *people[i]))
            coach_first, coach_whole, coach_failed = figures(coach)
            direct_first, direct_whole, direct_failed = figures(direct)
            failures += coach_failed + direct_failed
            print(f"{level} concurrent streams ({len(coach)} each way):")
            if coach_failed or direct_failed:
                errors = {t.error for t in coach + direct if t.error}
                print(f"  failed: coach {coach_failed}, direct {direct_failed}")
                print(f"  errors: {sorted(errors)[:3]}")
            if not coach_first or not direct_first:
                continue
            messages = [t.message for t in coach if t.message is not None]
            if messages:
                print(
                    f"  {'message':<12} coach {median(messages) * 1000:7.0f} / "
                    f"{percentile(messages, 0.95) * 1000:7.0f}   (the turn stored, before "
                    "the model is asked)"
                )
            direct_token = [t.first_delta for t in direct if t.first_delta and not t.error]
            line, _, _ = row("first token", coach_first, direct_token)
            print(line)
            line, first_median, first_p95 = row("first delta", coach_first, direct_first)
            print(line)
            line, _, _ = row("whole stream", coach_whole, direct_whole)
            print(line)
            whole_ratio = median(coach_whole) / median(direct_whole)
            if level == max(levels):
                verdicts += [
                    _verdict(
                        f"first delta at {level}, median +{first_median:.0f} ms",
                        first_median <= FIRST_MEDIAN_MS,
                        f"<= {FIRST_MEDIAN_MS:.0f} ms",
                    ),
                    _verdict(
                        f"first delta at {level}, p95 +{first_p95:.0f} ms",
                        first_p95 <= FIRST_P95_MS,
                        f"<= {FIRST_P95_MS:.0f} ms",
                    ),
                    _verdict(
                        f"whole stream at {level}, median x{whole_ratio:.3f}",
                        whole_ratio <= WHOLE_RATIO,
                        f"<= x{WHOLE_RATIO:.2f}",
                    ),
                ]
    for verdict in verdicts:
        print(verdict)
    print(f"failed streams: {failures}")
    return 1 if failures else 0


def _verdict(figure: str, met: bool, target: str) -> str:
    return f"{figure} (target {target}: {'met' if met else 'missed'})"


if __name__ == "__main__":
    raise SystemExit(main())
