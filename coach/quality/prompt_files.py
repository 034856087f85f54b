"""Which files under `prompts/` the suite exercised: every one must be, or a prompt
could change, or break, with no case noticing.

A template counts when the app read it while holding a case (the driver watches
the template loader). A data file counts when the run shows its effect: a
framework when a case reached its stage, the strategies when a reply or a plan
followed them, the crisis rules when a crisis got its fixed reply, and so on. A
file with no rule here is not exercised, so a new file fails the check until a
case (and a rule) covers it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from coach.quality.transcripts import Exchange, Transcript

Evidence = Callable[[list[Transcript]], bool]


def _exchanges(transcripts: list[Transcript]) -> Iterable[Exchange]:
    return (exchange for t in transcripts for exchange in t.exchanges)


def _any_safety(kind: str) -> Evidence:
    return lambda ts: any(e.safety == kind for e in _exchanges(ts))


def _reached(stage: str) -> Evidence:
    return lambda ts: any(e.stage_after == stage and e.reply for e in _exchanges(ts))


DATA_EVIDENCE: dict[str, Evidence] = {
    "strategies.toml": lambda ts: any(t.plan and t.plan.get("goals") for t in ts),
    "signals.toml": lambda ts: any(t.causes for t in ts),
    "dialogue.toml": lambda ts: any(e.choices for e in _exchanges(ts)),
    "guided.toml": lambda ts: any(t.conversation.mode == "guided" and t.exchanges for t in ts),
    "plan.toml": lambda ts: any(t.plan and t.plan.get("disclaimer") for t in ts),
    "safety/crisis_signals.toml": _any_safety("crisis"),
    "safety/replies.toml": lambda ts: _any_safety("crisis")(ts) and _any_safety("check_in")(ts),
    "safety/resources.toml": lambda ts: any(e.resources for e in _exchanges(ts)),
    "safety/output_rules.toml": _any_safety("guarded"),
    "safety/safe_statements.toml": _any_safety("safe_again"),
    "safety/disclosure.toml": lambda ts: any(e.disclosed for e in _exchanges(ts)),
}


def prompt_files(prompts_dir: Path) -> list[str]:
    return sorted(
        path.relative_to(prompts_dir).as_posix()
        for path in prompts_dir.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    )


def exercised(prompts_dir: Path, transcripts: list[Transcript]) -> dict[str, bool]:
    """Each prompt file and whether the run exercised it."""
    read = set().union(*(t.prompt_files for t in transcripts)) if transcripts else set()
    verdicts = {}
    for name in prompt_files(prompts_dir):
        if name.startswith("templates/"):
            verdicts[name] = name in read
        elif name.startswith("frameworks/"):
            verdicts[name] = _reached(Path(name).stem)(transcripts)
        else:
            evidence = DATA_EVIDENCE.get(name)
            verdicts[name] = bool(evidence and evidence(transcripts))
    return verdicts
