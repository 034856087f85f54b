"""The suite's recorded replies and its own ability to fail (issue 9): cassettes and
their keys, the replay server's modes through `coach eval`, a prompt change that
only `--rekey` lets through, a suite that fails when a framework or a cause's
mapping is changed, the coverage of cases and prompt files, and recording from a
live model with no secret written down."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from coach import create_app
from coach.__main__ import main
from coach.guide.frameworks import CAUSES, STAGES, frameworks
from coach.quality.cases import load_conversations
from coach.quality.cassettes import (
    Call,
    Cassette,
    dump_cassette,
    load_cassette,
    load_cassettes,
    request_key,
    request_purpose,
    save_cassette,
)
from coach.quality.drive import SuiteOptions, SuiteRun, run_suite
from coach.quality.judging import judge
from coach.quality.prompt_files import exercised
from coach.resources import resource_dir
from tests.fake_model import FakeModel

EVALS = resource_dir("evals")
PROMPTS = resource_dir("prompts")
CASE = "model_off_topic"


def _copy(tmp_path: Path, name: str, source: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


def _eval(*args: str, prompts: Path | None = None, monkeypatch=None) -> tuple[int, str]:
    if prompts is not None and monkeypatch is not None:
        monkeypatch.setenv("COACH_PROMPTS_DIR", str(prompts))
    result = CliRunner().invoke(main, ["eval", *args])
    return result.exit_code, result.output


# -- Cassettes ---------------------------------------------------------------------


def test_the_key_is_the_whole_request_and_the_purpose_its_schema():
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    assert request_key(body) == request_key(dict(reversed(body.items())))
    assert request_key(body) != request_key(body | {"max_tokens": 6})
    assert request_key(body) != request_key(body | {"model": "other"})
    assert request_purpose(body) == "reply"
    schema = {"type": "json_schema", "json_schema": {"name": "crisis_check", "schema": {}}}
    assert request_purpose(body | {"response_format": schema}) == "crisis_check"


def test_a_cassette_reads_back_as_written(tmp_path: Path):
    awkward = "It's ''' quoted,\n> a draft line\nand a backslash \\ too'"
    cassette = Cassette(
        "made",
        "hand-written",
        "gpt-4o-mini",
        [
            Call(1, "reply", "k1", "Plain text.", unsafe="guarantee", note="on purpose"),
            Call("plan", "action_plan", "k2", awkward),
        ],
    )
    save_cassette(tmp_path, cassette)
    assert load_cassette(tmp_path / "made.toml") == cassette
    assert "hand-written" in dump_cassette(cassette)


def test_every_model_case_has_a_cassette_marked_with_its_source():
    cases = load_conversations(EVALS / "conversations")
    cassettes = load_cassettes(EVALS / "cassettes")
    model_cases = {c.name for c in cases if c.mode == "model"}
    assert model_cases == set(cassettes)
    assert all(c.source in ("hand-written", "recorded") for c in cassettes.values())
    unsafe = {call.unsafe for c in cassettes.values() for call in c.calls if call.unsafe}
    # Deliberately bad replies of every kind the checks must catch are in the suite.
    assert {"guarantee", "diagnosis", "blame", "advice_first", "ungrounded"} <= unsafe


# -- The cases cover the ground --------------------------------------------


def test_the_cases_cover_every_stage_cause_emotion_and_kind_of_case(app):
    cases = load_conversations(EVALS / "conversations")
    assert len(cases) >= 60
    assert {stage for c in cases for stage in c.route} == set(STAGES)
    assert {cause for c in cases for cause in c.causes or ()} == set(CAUSES)
    assert {"crisis", "figurative", "injection", "off_topic", "paraphrase"} <= {
        c.group for c in cases
    }
    assert {t.safety for c in cases for t in c.turns} >= {"crisis", "figurative"}
    paraphrases = [c.paraphrase for c in cases if c.paraphrase]
    assert all(paraphrases.count(p) >= 2 for p in paraphrases)
    labelled = [
        word.casefold()
        for c in cases
        for label in c.record.must
        if label.field == "emotions"
        for word in label.contains
    ]
    for reaction in frameworks(app).stage("emotions").section("reactions").items:
        name = reaction.name.casefold()
        assert any(word in name for word in labelled), f"no case names {reaction.name}"


# -- The whole suite, offline --------------------------------------------------------


def test_the_whole_suite_passes_offline_and_proves_it_can_catch(whole_eval_run: SuiteRun):
    outcome = judge(whole_eval_run, whole_suite=True)
    failed = [(r.case, r.check, r.detail) for r in outcome.results if not r.passed]
    assert failed == [] and outcome.problems == []
    assert whole_eval_run.misses == []
    checks = {r.check for r in outcome.results}
    assert checks == {"routing", "grounding", "consistency", "safety", "plan", "tone"}
    guarded = [e for t in whole_eval_run.transcripts for e in t.exchanges if e.safety == "guarded"]
    assert len(guarded) >= 2  # the unsafe recordings were stopped, and nothing else was
    model_plans = [
        t.plan for t in whole_eval_run.transcripts if t.plan and t.plan["model"] != "guided"
    ]
    assert model_plans, "the model path wrote plans from the cassettes"
    (repaired,) = [
        t for t in whole_eval_run.transcripts if t.conversation.name == "model_plan_repaired"
    ]
    # The first plan had a step past the horizon: it was repaired once, then kept.
    assert [s.purpose for s in repaired.plan_served] == ["action_plan", "action_plan"]
    assert repaired.plan is not None and repaired.plan["model"] == "gpt-4o-mini"


def test_every_prompt_file_is_exercised_and_a_new_one_is_noticed(
    whole_eval_run: SuiteRun, tmp_path: Path
):
    verdicts = exercised(PROMPTS, whole_eval_run.transcripts)
    assert [name for name, ok in verdicts.items() if not ok] == []
    assert "templates/system.j2" in verdicts and "safety/output_rules.toml" in verdicts
    prompts = _copy(tmp_path, "prompts", PROMPTS)
    (prompts / "templates" / "unused.j2").write_text("Nobody renders me.")
    (prompts / "extra.toml").write_text("x = 1\n")
    verdicts = exercised(prompts, whole_eval_run.transcripts)
    assert verdicts["templates/unused.j2"] is False and verdicts["extra.toml"] is False


# -- Misses, re-keying and the suite's ability to fail ------------------------------


def test_a_request_with_no_recording_fails_loudly_naming_the_case(tmp_path: Path):
    cassettes = _copy(tmp_path, "cassettes", EVALS / "cassettes")
    cassette = load_cassette(cassettes / f"{CASE}.toml")
    cassette.calls = [c for c in cassette.calls if not (c.turn == 2 and c.purpose == "reply")]
    save_cassette(cassettes, cassette)
    code, output = _eval(
        "--only", CASE, "--cassettes", str(cassettes), "--report", str(tmp_path / "r.md")
    )
    assert code == 1
    assert f"no recording for case '{CASE}', turn 2, reply" in output


def test_a_prompt_change_needs_rekey_which_names_the_changed_cases(tmp_path: Path, monkeypatch):
    prompts = _copy(tmp_path, "prompts", PROMPTS)
    persona = prompts / "templates" / "persona.j2"
    persona.write_text(persona.read_text() + "\nBe brief.\n")
    cassettes = _copy(tmp_path, "cassettes", EVALS / "cassettes")
    report = str(tmp_path / "r.md")
    args = ("--only", CASE, "--cassettes", str(cassettes), "--report", report)
    code, output = _eval(*args, prompts=prompts, monkeypatch=monkeypatch)
    assert code == 1 and f"no recording for case '{CASE}', turn 1, reply" in output
    code, output = _eval(*args, "--rekey", prompts=prompts, monkeypatch=monkeypatch)
    assert code == 0, output
    assert f"re-keyed: {CASE}: " in output and "moved to new keys" in output
    code, output = _eval(*args, prompts=prompts, monkeypatch=monkeypatch)
    assert code == 0, output
    # The texts moved, unchanged, to their new keys.
    before = load_cassette(EVALS / "cassettes" / f"{CASE}.toml")
    after = load_cassette(cassettes / f"{CASE}.toml")
    assert [c.text for c in after.calls] == [c.text for c in before.calls]
    assert {c.key for c in after.calls if c.purpose == "reply"}.isdisjoint(
        {c.key for c in before.calls if c.purpose == "reply"}
    )


def test_recorded_replies_are_never_rekeyed(tmp_path: Path, monkeypatch):
    prompts = _copy(tmp_path, "prompts", PROMPTS)
    persona = prompts / "templates" / "persona.j2"
    persona.write_text(persona.read_text() + "\nBe brief.\n")
    cassettes = _copy(tmp_path, "cassettes", EVALS / "cassettes")
    path = cassettes / f"{CASE}.toml"
    path.write_text(path.read_text().replace('source = "hand-written"', 'source = "recorded"'))
    code, output = _eval(
        "--only",
        CASE,
        "--cassettes",
        str(cassettes),
        "--rekey",
        "--report",
        str(tmp_path / "r.md"),
        prompts=prompts,
        monkeypatch=monkeypatch,
    )
    assert code == 1 and "no recording for case" in output
    original = load_cassette(EVALS / "cassettes" / f"{CASE}.toml")
    assert [c.key for c in load_cassette(path).calls] == [c.key for c in original.calls]


SKILLS_CASES = ("model_skills_gap_excel", "model_ungrounded_caught", "paraphrase_sql_gap_1")


def test_swapping_a_causes_mapping_makes_the_suite_fail(tmp_path: Path, monkeypatch):
    """The advice no longer follows the map: even with every reply re-keyed to the
    changed prompts, grounding and the plans fail."""
    prompts = _copy(tmp_path, "prompts", PROMPTS)
    strategies = prompts / "strategies.toml"
    text = strategies.read_text()
    original = 'strategies = ["courses", "certifications", "workshops"]'
    assert original in text
    strategies.write_text(
        text.replace(original, 'strategies = ["networking", "mentorship", "reframing"]')
    )
    cassettes = _copy(tmp_path, "cassettes", EVALS / "cassettes")
    only = [arg for case in SKILLS_CASES for arg in ("--only", case)]
    code, output = _eval(
        *only,
        "--cassettes",
        str(cassettes),
        "--rekey",
        "--report",
        str(tmp_path / "r.md"),
        prompts=prompts,
        monkeypatch=monkeypatch,
    )
    assert code == 1
    assert "names no strategy mapped to skills_gap" in output
    assert "model_skills_gap_excel [plan" in output or "paraphrase_sql_gap_1 [plan" in output


def test_removing_a_framework_makes_the_suite_fail(tmp_path: Path, monkeypatch):
    prompts = _copy(tmp_path, "prompts", PROMPTS)
    (prompts / "frameworks" / "resilience.toml").unlink()
    code, output = _eval(
        "--only",
        CASE,
        "--report",
        str(tmp_path / "r.md"),
        prompts=prompts,
        monkeypatch=monkeypatch,
    )
    assert code != 0
    assert "resilience" in output


# -- Recording from a live model ----------------------------------------------------


def test_live_record_writes_recorded_cassettes_without_the_key(tmp_path: Path, monkeypatch):
    secret = "sk-test-secret-0123456789"
    with FakeModel() as fake:
        # Two turns in one stage: a reply each, and no reading of the record, which
        # comes once a stage ends (crisis checks are answered by the fake itself); the
        # reply repeats the key, which is filtered.
        fake.enqueue_json(f"I'm sorry, that's disappointing. My key is {secret}.")
        fake.enqueue_json("That makes sense. What stays with you most?")
        monkeypatch.setenv("OPENAI_API_KEY", secret)
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        monkeypatch.setenv("COACH_MODEL", "fake-live-model")
        cassettes = tmp_path / "cassettes"
        options = SuiteOptions(cassettes=cassettes, live=True, record=True)
        cases = load_conversations(EVALS / "conversations", (CASE,))
        run = run_suite(create_app, cases, options)
    assert run.misses == []
    written = (cassettes / f"{CASE}.toml").read_text()
    assert secret not in written and "[filtered]" in written
    recorded = load_cassette(cassettes / f"{CASE}.toml")
    assert recorded.source == "recorded" and recorded.model == "fake-live-model"
    assert [c.purpose for c in recorded.calls if c.turn == 1] == ["reply", "crisis_check"]
    # Replayed offline, the recording answers the same requests.
    replayed = run_suite(create_app, cases, SuiteOptions(cassettes=cassettes))
    assert replayed.misses == []
    assert (
        replayed.transcripts[0].exchanges[1].reply == "That makes sense. What stays with you most?"
    )


def test_live_without_record_checks_the_live_replies_and_writes_nothing(
    tmp_path: Path, monkeypatch
):
    with FakeModel() as fake:
        fake.enqueue_json("Sorry, that's disappointing: your own fault, really.")
        fake.enqueue_json("{}")
        fake.enqueue_json("I'm sorry. What stays with you most?")
        fake.enqueue_json("{}")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-live")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
        cassettes = tmp_path / "cassettes"
        code, output = _eval(
            "--live",
            "--only",
            CASE,
            "--cassettes",
            str(cassettes),
            "--report",
            str(tmp_path / "r.md"),
        )
    assert code == 1, output  # the live reply blamed the seeker, and the check saw it
    assert "the reply blames the seeker" in output and "live model" in output
    assert not cassettes.exists()
