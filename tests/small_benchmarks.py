"""The benchmarks' small modes for `tests/test_bench_*.py`: each script run as a user
runs it (`python benchmarks/NAME --small`, in a process of its own), its output
returned for the test to read; a script that exits non-zero fails the test.

The scripts run in two groups, the scripts of a group at once: most of a run is
waiting (on the fake model's pace, on gunicorn starting, on background work) or
the work of one thread, so that one at a time left the machine's other core idle.
The serving benchmarks run in a group of their own, after the others have ended:
what their tests assert (no failed stream, no "database is locked") must not
depend on how busy the machine is, and a crowded machine is the one case where it
could.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The turn benchmarks: in process on the fake model, or one seeker's turns under
# gunicorn (`turn_overhead.py`), or no server at all (`relay_cpu.py`).
TURNS = ("cost_growth.py", "model_calls.py", "long_session.py", "relay_cpu.py", "turn_overhead.py")
# Many streams at once under gunicorn.
SERVING = ("streaming_concurrency.py", "nothing_held.py", "disconnect.py")


def small_output(name: str) -> str:
    """What `benchmarks/<name> --small` printed (its group is run on the first call)."""
    done = _run_at_once(TURNS if name in TURNS else SERVING)[name]
    assert done.returncode == 0, f"{name}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@functools.cache
def _run_at_once(names: tuple[str, ...]) -> dict[str, subprocess.CompletedProcess[str]]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    running = {
        name: subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / name), "--small"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=environment,
        )
        for name in names
    }
    done = {}
    try:
        for name, process in running.items():
            stdout, stderr = process.communicate(timeout=300)
            done[name] = subprocess.CompletedProcess(
                process.args, process.returncode, stdout, stderr
            )
    finally:
        for process in running.values():
            if process.poll() is None:
                process.kill()
                process.communicate()
    return done
