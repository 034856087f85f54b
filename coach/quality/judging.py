"""The verdict on a whole run: the checks of every case, the prompt files the run
left unexercised, and the model calls that had no recording (each named by case,
turn and purpose, so that a changed prompt cannot pass unnoticed)."""

from __future__ import annotations

from coach.quality.drive import EVAL_DAY, SuiteRun
from coach.quality.prompt_files import exercised
from coach.quality.report import SuiteOutcome
from coach.quality.suite_checks import Context, run_checks

REKEY_HINT = (
    "after a deliberate prompt change, `coach eval --rekey` moves hand-written replies "
    "to their new keys; recorded ones need `coach eval --live --record`"
)


def judge(run: SuiteRun, *, whole_suite: bool) -> SuiteOutcome:
    """`whole_suite`: every case ran, so every prompt file must have been exercised."""
    assert run.frameworks is not None and run.guard is not None and run.options is not None
    outcome = SuiteOutcome(run.options.label)
    outcome.results = run_checks(run.transcripts, Context(run.frameworks, run.guard, EVAL_DAY))
    for miss in run.misses:
        outcome.problems.append(
            f"no recording for case {miss.case!r}, turn {miss.turn}, {miss.purpose}: {REKEY_HINT}"
        )
    if whole_suite and run.prompts_dir is not None:
        unexercised = [
            name for name, ok in exercised(run.prompts_dir, run.transcripts).items() if not ok
        ]
        if unexercised:
            outcome.problems.append("prompt files no case exercised: " + ", ".join(unexercised))
        else:
            outcome.notes.append("Every file under prompts/ was exercised by at least one case.")
    for case, count in sorted(run.rekeyed.moved.items()):
        outcome.notes.append(f"re-keyed: {case}: {count} hand-written call(s) moved to new keys")
    for case, count in sorted(run.rekeyed.stocked.items()):
        outcome.notes.append(f"re-keyed: {case}: {count} new call(s) given the stock answer")
    for case, count in sorted(run.unused.items()):
        outcome.notes.append(f"re-keyed: {case}: {count} call(s) no request asked for, dropped")
    return outcome
