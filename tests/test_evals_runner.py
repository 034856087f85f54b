"""The conversation-quality suite's own machinery (`coach.quality`, `coach eval`):
each check and score on small hand-made transcripts, a deliberately bad transcript
caught on every count, the conversation files and their labels, the driver on the
real app, and the command's exit status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from coach import create_app
from coach.__main__ import main
from coach.guide.frameworks import frameworks
from coach.quality.cases import (
    QUICK_REPLIES,
    Conversation,
    RecordEntry,
    RecordLabel,
    load_conversation,
    load_conversations,
    normalise,
)
from coach.quality.checks import (
    blockquote_draft,
    first_sentence,
    gives_language_line,
    opens_with_quote,
    record_entries,
    unhonoured,
)
from coach.quality.drive import SuiteRun, run_suite
from coach.quality.scoring import FrameworkItem, Scorecard, score
from coach.quality.transcripts import Exchange, Transcript
from coach.resources import resource_dir

SUITE = resource_dir("evals") / "conversations"
ITEMS = [
    FrameworkItem("emotions", "reactions", "Disappointment"),
    FrameworkItem("causes", "reading_feedback", "Ask politely for more"),
]
LINES = {"es": "Por ahora solo hablo inglés."}


def conversation(**fields: Any) -> Conversation:
    data: dict[str, Any] = {
        "name": "made_by_hand",
        "title": "A hand-made conversation",
        "who": "A seeker written for the tests.",
        "route": ["emotions"],
    }
    return Conversation.model_validate(data | fields)


# -- Replies that open with a quote of the seeker ---------------------------------


@pytest.mark.parametrize(
    ("reply", "said", "quoting"),
    [
        # The old stock frames, each caught.
        ("“idk.” That is worth taking seriously.", "idk.", True),
        ("**“Are you even listening?”** Let's stay with that.", "Are you even listening?", True),
        ('"Fine." Let us go on.', "Fine.", True),
        (
            "You said: “The recruiter said another candidate was stronger on SQL.” Thank you.",
            "The recruiter said another candidate was stronger on SQL.",
            True,
        ),
        # Five words in a row are a quote whatever the case or the apostrophes.
        ("I\u2019M GUTTED AND I FEEL it too.", "i'm gutted and i feel stupid", True),
        (
            "So your answers to the behavioural questions ran long.",
            "my answers to the behavioural questions rambled",
            True,
        ),
        # Four words in a row are not.
        (
            "Your answers to the questions ran long.",
            "my answers to the behavioural questions",
            False,
        ),
        # A reflection in the coach's own words.
        (
            "You froze on the SQL exercise, and the feedback named SQL. Is that right?",
            "There was a live exercise with window functions and I froze on it.",
            False,
        ),
        # Only the first sentence counts.
        (
            "That sounds hard. The recruiter said another candidate was stronger.",
            "the recruiter said another candidate was stronger",
            False,
        ),
        # A two-word message cannot give five words; no opening quote mark either.
        ("I hear you: “Move on” it is.", "Move on", False),
    ],
)
def test_a_reply_that_opens_with_a_quote_is_caught(reply: str, said: str, quoting: bool):
    assert opens_with_quote(reply, said) is quoting


def test_the_first_sentence_ends_at_its_stop_or_its_line():
    assert first_sentence("**Feelings.** More here.") == "Feelings."
    assert first_sentence("No stop here\nNext line.") == "No stop here"
    assert first_sentence("“Hi.” That is worth it.") == "“Hi.”"


# -- Requests honoured in the same turn --------------------------------------------

DRAFT = (
    "Here is a short reply you could send:\n\n"
    "> Dear Ms Lee,\n"
    "> Thank you for letting me know, and for your time.\n"
    "> Could you share any specific feedback on where I fell short?\n\n"
    "A sharp reply would close a door you may want open later."
)


@pytest.mark.parametrize(
    ("kind", "reply", "before", "after", "problem"),
    [
        ("plan", "Here is your plan.", "causes", "plan", None),
        ("plan", "Let's first look at what happened.", "causes", "causes", "not 'plan'"),
        ("recruiter", DRAFT, "emotions", "emotions", None),
        # Thanks and feedback outside a blockquote are no draft.
        ("recruiter", "Thank them and ask for feedback.", "emotions", "emotions", "no blockquote"),
        (
            "recruiter",
            "> Thank you for your time.\n> Best wishes",
            "emotions",
            "emotions",
            "feedback",
        ),
        ("recruiter", "> Any feedback would help.", "emotions", "emotions", "thank"),
        ("break", "Of course. Everything is kept; come back any time.", "causes", "causes", None),
        ("break", "Of course, rest well.", "causes", "causes", "kept"),
        ("break", "Everything is kept.", "causes", "improvement", "stage moved"),
    ],
)
def test_a_request_is_honoured_only_as_the_contract_says(
    kind: Any, reply: str, before: str, after: str, problem: str | None
):
    found = unhonoured(kind, reply, before, after)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_the_draft_is_the_blockquote_lines_only():
    assert blockquote_draft(DRAFT).splitlines() == [
        "Dear Ms Lee,",
        "Thank you for letting me know, and for your time.",
        "Could you share any specific feedback on where I fell short?",
    ]


def test_the_language_line_must_be_there_and_known():
    line = LINES["es"]
    assert gives_language_line(f"{line} Can we go on in English?", line)
    assert not gives_language_line("Sorry, I only speak English.", line)
    assert not gives_language_line("Anything at all.", None)


# -- The record against its labels --------------------------------------------------

REFLECTION = {
    "emotions": ["Disappointment", "Relief"],
    "likely_causes": [
        {"cause": "skills_gap", "label": "Skills or experience gap", "evidence": "weak on SQL"},
        {"cause": "competition", "label": "Strong competition", "evidence": "another candidate"},
    ],
    "cause_unknown": False,
    "feedback": ["They said my SQL was weak"],
    "strengths": [],
    "goals": ["go back to supply teaching"],
    "routine": [],
    "support": [],
}
RECORD_LABELS = {
    "must": [
        {"field": "emotions", "contains": "disappoint"},
        {"field": "likely_causes", "cause": "skills_gap", "contains": ["sql", "window"]},
        {"field": "feedback", "contains": "SQL"},
        {"field": "support", "contains": "sister"},
    ],
    "must_not": [
        {"field": "likely_causes", "cause": "competition"},
        {"field": "goals", "contains": "supply teaching"},
    ],
}


def test_the_record_is_flattened_into_entries():
    entries = record_entries(REFLECTION)
    assert RecordEntry(field="likely_causes", text="weak on SQL", cause="skills_gap") in entries
    assert RecordEntry(field="emotions", text="Relief") in entries
    assert len(entries) == 6  # a false cause_unknown is no entry
    assert RecordEntry(field="cause_unknown") in record_entries({"cause_unknown": True})
    assert record_entries(None) == []


@pytest.mark.parametrize(
    ("label", "entry", "matches"),
    [
        (
            {"field": "emotions", "contains": "disappoint"},
            ("emotions", "Disappointment", None),
            True,
        ),
        ({"field": "emotions", "contains": "disappoint"}, ("goals", "disappointment", None), False),
        (
            {"field": "likely_causes", "cause": "skills_gap"},
            ("likely_causes", "x", "skills_gap"),
            True,
        ),
        (
            {"field": "likely_causes", "cause": "skills_gap"},
            ("likely_causes", "x", "competition"),
            False,
        ),
        (
            {"field": "goals", "contains": ["CKA", "kubernetes"]},
            ("goals", "Learn Kubernetes", None),
            True,
        ),
        ({"field": "goals", "contains": "don't"}, ("goals", "I don\u2019t know", None), True),
        ({"field": "cause_unknown"}, ("cause_unknown", "", None), True),
    ],
)
def test_a_label_matches_by_field_cause_and_any_of_its_words(label, entry, matches):
    field, text, cause = entry
    found = RecordLabel.model_validate(label).matches(
        RecordEntry(field=field, text=text, cause=cause)
    )
    assert found is matches


def test_precision_counts_forbidden_and_unlabelled_entries_and_recall_the_must_labels():
    case = conversation(
        turns=[{"say": "one"}, {"say": "two"}],
        record=RECORD_LABELS | {"may": [{"field": "emotions", "contains": "nothing-like-it"}]},
    )
    card = score([transcript_of(case, ["fine", "fine"], reflection=REFLECTION)], ITEMS, LINES)
    # Right: Disappointment, the SQL cause, the SQL feedback. Wrong: competition and
    # the supply-teaching goal (forbidden), Relief (no label accounts for it).
    assert (card.precision.hit, card.precision.total) == (3, 6)
    # Found 3 of the 4 must labels: the sister is missing.
    assert (card.recall.hit, card.recall.total) == (3, 4)
    problems = "\n".join(card.failures["made_by_hand"])
    assert "must not appear" in problems and "competition" in problems
    assert "supply teaching" in problems
    assert "no label accounts for" in problems and "Relief" in problems
    assert "lacks support containing 'sister'" in problems


def test_a_missing_reflection_counts_as_an_empty_record_and_says_so():
    case = conversation(turns=[{"say": "one"}, {"say": "two"}], record=RECORD_LABELS)
    card = score([transcript_of(case, ["fine", "fine"], reflection=None)], ITEMS, LINES)
    assert (card.precision.total, card.recall.hit, card.recall.total) == (0, 0, 4)
    assert card.notes and "reflection" in card.notes[0]


# -- Whole transcripts: the bad one fails on every count, the good one passes ------

CASE = conversation(
    language="en",
    turns=[
        {"say": "They said another candidate was stronger on SQL in the live exercise."},
        {"say": "Yes, that's right"},
        {"say": "Move on", "consents": True},
        {"say": "Hola, necesito ayuda.", "language": "es"},
        {"say": "Help me answer the recruiter", "request": "recruiter"},
        {"say": "Make my plan", "request": "plan"},
    ],
    route=["emotions", "causes", "plan"],
    record={"must": [{"field": "feedback", "contains": "SQL"}]},
)


def transcript_of(
    case: Conversation,
    replies: list[str],
    stages: list[str] | None = None,
    reflection: dict[str, Any] | None = None,
) -> Transcript:
    stages = stages or ["emotions"] * len(replies)
    befores = ["emotions", *stages[:-1]]
    exchanges = [
        Exchange(turn.say, reply, before, after)
        for turn, reply, before, after in zip(case.turns, replies, befores, stages, strict=True)
    ]
    return Transcript(case, exchanges, reflection)


GOOD = transcript_of(
    CASE,
    [
        "The feedback named SQL, and that seems to sting. Disappointment fits?",
        "Thank you for checking. Shall we look at what might have caused it?",
        "Let's look at the causes. Ask politely for more if the feedback is thin.",
        f"{LINES['es']} Shall we go on in English?",
        DRAFT,
        "Here is your plan, built from what we found.",
    ],
    ["emotions", "emotions", "causes", "causes", "causes", "plan"],
    reflection={"feedback": ["another candidate was stronger on SQL"]},
)
BAD = transcript_of(
    CASE,
    [
        "You said: “They said another candidate was stronger on SQL.” Noted.",
        "“Yes, that's right” That is worth taking seriously.",
        "Shall we move on?",
        "Thank you. How do you feel?",
        "Tailor each application to the job.",
        "Let's keep looking at improvement first.",
    ],
    # Moves on a confirmation (turn 2), stays on consent (turn 3).
    ["emotions", "improvement", "improvement", "improvement", "improvement", "improvement"],
    reflection={"likely_causes": [{"cause": "competition", "evidence": "another candidate"}]},
)


def test_a_good_transcript_meets_every_target():
    card = score([GOOD], ITEMS, LINES)
    assert card.failures == {}
    assert card.targets_met()
    assert all(result.met is not False for result in card.results())
    assert (card.coverage.hit, card.coverage.total) == (2, 2)


def test_a_bad_transcript_is_caught_on_every_count():
    card = score([BAD], ITEMS, LINES)
    assert not card.targets_met()
    missed = {result.name for result in card.results() if result.met is False}
    assert missed == {
        "record precision",
        "record recall",
        "replies opening with a quote of the seeker",
        "requests honoured in the same turn",
        "other languages given their fixed line",
        "stage moves without consent or request",
        "framework items that reached a seeker",
    }
    assert card.quote_openers == 2
    assert card.unconsented_moves == 1
    assert (card.requests.hit, card.requests.total) == (0, 2)
    assert (card.languages.hit, card.languages.total) == (0, 1)
    assert (card.routes.hit, card.routes.total) == (0, 1)
    assert card.unreached == ITEMS
    problems = card.failures["made_by_hand"]
    assert any(p.startswith("turn 1: the reply opens with a quote") for p in problems)
    assert any(
        p.startswith("turn 2: the stage moved from 'emotions' to 'improvement'") for p in problems
    )
    assert any(p.startswith("turn 5: the recruiter request was not honoured") for p in problems)
    assert any(p.startswith("turn 6: the plan request was not honoured") for p in problems)
    assert any(p.startswith("route emotions > improvement") for p in problems)


def test_a_failed_turn_and_a_crisis_reply_are_listed():
    failed = Transcript(
        conversation(turns=[{"say": "one"}, {"say": "two"}]),
        [
            Exchange("one", "", "emotions", "emotions", error="HTTP 502 model_unavailable"),
            Exchange("two", "Please call a helpline.", "emotions", "emotions", safety="crisis"),
        ],
        {},
    )
    problems = score([failed], ITEMS, LINES).failures["made_by_hand"]
    assert problems == [
        "turn 1: no reply: HTTP 502 model_unavailable",
        "turn 2: the crisis screen answered this turn (crisis)",
    ]


def test_empty_ratios_meet_their_targets_and_show_as_not_applicable():
    card = Scorecard()
    assert card.targets_met()
    assert card.precision.shown() == "n/a (0/0)"


# -- The conversation files ---------------------------------------------------------


@pytest.fixture(scope="module")
def suite() -> list[Conversation]:
    return load_conversations(SUITE)


def test_the_suite_has_sixty_varied_conversations(suite: list[Conversation]):
    assert len(suite) >= 60
    languages = {c.language_of(t) for c in suite for t in c.turns}
    assert {"en", "es", "fr", "de", "pt", "it"} <= languages
    requests = [t.request for c in suite for t in c.turns if t.request]
    assert {"plan", "recruiter", "break"} <= set(requests)
    with_feedback = [c for c in suite if any(label.field == "feedback" for label in c.record.must)]
    unknown = [c for c in suite if any(label.field == "cause_unknown" for label in c.record.must)]
    assert len(with_feedback) >= 10 and unknown
    assert len({c.title for c in suite}) == len(suite)


def test_clicked_quick_replies_carry_their_labels(suite: list[Conversation], app):
    """A seeker who clicks "Move on" consents, "Make my plan" asks for the plan,
    "Take a break" for a break; the feelings and causes they click are the
    frameworks' own names."""
    named = frameworks(app)
    feelings = {item.name for item in named.stage("emotions").section("reactions").items}
    causes = {item.name for item in named.stage("causes").section("causes").items}
    for case in suite:
        for turn in case.turns:
            if turn.say == "Move on":
                assert turn.consents, case.name
            if turn.say in ("Make my plan", "Write my plan"):
                assert turn.request == "plan", case.name
            if turn.say == "Take a break":
                assert turn.request == "break", case.name
            if turn.say in ("Stay here", "Yes, that's right", "Not quite"):
                assert not turn.consents and not turn.request, case.name
    clicked = {t.say for c in suite for t in c.turns}
    assert set(QUICK_REPLIES) <= clicked
    assert clicked & feelings and clicked & causes


def test_labelled_entries_come_from_the_seekers_own_words(suite: list[Conversation]):
    """Whatever a label expects in the record beyond a feeling's name, the seeker
    said: evidence, feedback, goals, routine, support and strengths are theirs."""
    unsaid = []
    for case in suite:
        said = normalise(" ".join(turn.say for turn in case.turns))
        for label in case.record.must + case.record.may:
            if label.field == "emotions" or not label.contains:
                continue
            if not all(normalise(word) in said for word in label.contains):
                unsaid.append((case.name, label.shown()))
    assert unsaid == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"route": ["emotions", "causes"]}, "only 0 turns permit a move"),
        ({"route": ["causes"]}, "starts where a session does"),
        ({"route": ["emotions", "emotions"]}, "no stage twice"),
        ({"record": {"must": [{"field": "goals", "cause": "skills_gap"}]}}, "names a cause"),
        ({"record": {"must": [{"field": "goals", "contains": " "}]}}, "empty word"),
        ({"record": {"must": [{"field": "hobbies"}]}}, "field"),
        ({"turns": [{"say": "one", "request": "hug"}, {"say": "two"}]}, "request"),
        ({"mood": "grumpy"}, "mood"),
    ],
)
def test_a_malformed_conversation_is_refused(change: dict[str, Any], error: str):
    fields = {"turns": [{"say": "one"}, {"say": "two"}]} | change
    with pytest.raises(ValueError, match=error):
        conversation(**fields)


def test_a_malformed_file_names_itself(tmp_path: Path):
    broken = tmp_path / "broken.toml"
    broken.write_text('title = "x"\n[[turns]]\nsay = "hi"\nroute = ["emotions"]\n')
    with pytest.raises(ValueError, match=r"broken\.toml"):
        load_conversation(broken)
    with pytest.raises(ValueError, match="no conversation named nobody"):
        load_conversations(tmp_path, ("nobody",))


# -- The driver on the real app ----------------------------------------------------


def test_the_driver_holds_a_conversation_through_the_api(app):
    case = conversation(
        turns=[
            {"say": "I was turned down after the second interview."},
            {"say": "Take a break", "request": "break"},
        ]
    )
    run = run_suite(create_app, [case])
    (transcript,) = run.transcripts
    assert [e.said for e in transcript.exchanges] == [t.say for t in case.turns]
    assert all(e.reply and e.error is None for e in transcript.exchanges)
    assert transcript.exchanges[0].stage_before == "emotions"
    assert transcript.reflection is None or isinstance(transcript.reflection, dict)
    every_item = [i for f in frameworks(app).ordered for s in f.sections for i in s.items]
    assert [item.name for item in run.items] == [item.name for item in every_item]


def test_every_conversation_of_the_suite_runs_without_errors_or_crises(
    suite: list[Conversation], whole_eval_run: SuiteRun
):
    """The scripts are fit to be scored: every turn answered, no crisis tripped
    but where a turn says it is one."""
    run = whole_eval_run
    broken = [
        (t.conversation.name, n)
        for t in run.transcripts
        for n, e in enumerate(t.exchanges, start=1)
        if e.error
        or (
            e.safety in ("crisis", "check_in")
            and not any(turn.safety == "crisis" for turn in t.conversation.turns[:n])
        )
    ]
    assert broken == []
    assert sum(len(t.exchanges) for t in run.transcripts) == sum(len(c.turns) for c in suite)


# -- The command -------------------------------------------------------------------

UNMEETABLE = """title = "A label no coach can meet"
who = "Written for the command's test."
route = ["emotions"]

[[turns]]
say = "I was turned down after the second interview."

[[turns]]
say = "Take a break"
request = "break"

[record]
must = [{ field = "goals", contains = "zzz-never-said" }]
"""


def test_coach_eval_fails_when_a_target_is_missed_and_writes_the_report(tmp_path: Path):
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "unmeetable.toml").write_text(UNMEETABLE)
    report = tmp_path / "report.md"
    result = CliRunner().invoke(main, ["eval", "--cases", str(cases), "--report", str(report)])
    assert result.exit_code == 1, result.output
    assert "record recall" in result.output and "0.0 % (0/1)" in result.output
    assert "unmeetable" in result.output and "zzz-never-said" in result.output
    written = report.read_text()
    assert "| record recall | 0.0 % (0/1) | >= 80% | NO |" in written
    assert "<summary>unmeetable: A label no coach can meet</summary>" in written


@pytest.mark.parametrize("modes", [["--record"], ["--live", "--rekey"]])
def test_modes_that_do_not_go_together_are_refused(modes: list[str]):
    result = CliRunner().invoke(main, ["eval", *modes])
    assert result.exit_code == 2


def test_coach_eval_names_an_unknown_conversation():
    result = CliRunner().invoke(main, ["eval", "--only", "nobody-at-all"])
    assert result.exit_code == 1
    assert "no conversation named nobody-at-all" in result.output


@pytest.mark.parametrize(
    ("offered", "said", "consents"),
    [
        (("Move on", "Stay here"), "Move on", True),
        (("Move on", "Stay here"), "Yes, that's right", True),
        (("Move on", "Stay here"), "ok let's go", True),
        (("Move on", "Stay here"), "Stay here", False),
        (("Move on", "Stay here"), "I froze on the SQL exercise", False),
        (("Yes, that's right", "Not quite"), "Yes, that's right", False),
        ((), "Move on", False),
    ],
)
def test_a_yes_counts_as_consent_only_right_after_the_move_on_question(
    offered: tuple[str, ...], said: str, consents: bool
) -> None:
    from coach.quality.scoring import answers_yes_to_moving_on

    assert answers_yes_to_moving_on(offered, said) is consents
