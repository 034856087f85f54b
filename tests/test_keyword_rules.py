"""The guided keyword rules: what a seeker message proposes for the reflection
record, checked one false-positive kind at a time and measured over a labelled
set (`tests/data/keyword_rules_labelled.toml`)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from coach.coaching.keyword_rules import KeywordRules
from coach.errors import ConfigurationError
from coach.guide.frameworks import Frameworks
from coach.guide.record import ReflectionRecord
from coach.resources import resource_dir

LABELLED = Path(__file__).parent / "data" / "keyword_rules_labelled.toml"
FIELDS = ("feedback", "strengths", "goals", "routine", "support")
PRECISION_TARGET = 0.95
RECALL_TARGET = 0.80


@pytest.fixture(scope="module")
def frameworks() -> Frameworks:
    return Frameworks.load(resource_dir("prompts"))


@pytest.fixture(scope="module")
def rules(frameworks: Frameworks) -> KeywordRules:
    return KeywordRules.compile(frameworks, resource_dir("prompts"))


def labels(record: ReflectionRecord, frameworks: Frameworks) -> set[str]:
    """A proposal as the labels of the labelled set."""
    reactions = {
        item.name.lower(): str(item.key)
        for item in frameworks.stage("emotions").section("reactions").items
    }
    found = {
        f"emotion:{reactions[e]}" if e in reactions else f"feeling:{e}" for e in record.emotions
    }
    found |= {f"cause:{c.cause}" for c in record.likely_causes}
    found |= {field for field in FIELDS if getattr(record, field)}
    if record.cause_unknown:
        found.add("cause_unknown")
    return found


def labelled_cases() -> list[dict]:
    return tomllib.loads(LABELLED.read_text("utf-8"))["case"]


def test_the_labelled_set_is_large_and_varied():
    cases = labelled_cases()
    assert len(cases) >= 80
    assert len({c["text"] for c in cases}) == len(cases)
    expected = {label.split(":")[0] for c in cases for label in c["expect"]}
    assert expected >= {"emotion", "feeling", "cause", "cause_unknown", *FIELDS}


def test_precision_and_recall_over_the_labelled_set(rules, frameworks, capsys):
    proposed = correct = expected = found = 0
    wrong: list[str] = []
    for case in labelled_cases():
        got = labels(rules.read(case["text"]), frameworks)
        want = set(case["expect"])
        proposed += len(got)
        correct += len(got & want)
        expected += len(want)
        found += len(want & got)
        if got != want:
            wrong.append(f"{case['text']!r}: proposed {sorted(got)}, expected {sorted(want)}")
    precision = correct / proposed
    recall = found / expected
    with capsys.disabled():
        print(f"\nkeyword rules: precision {precision:.1%} ({correct}/{proposed}), "
              f"recall {recall:.1%} ({found}/{expected}) over {len(labelled_cases())} messages")
        for line in wrong:
            print("  ", line)
    assert precision >= PRECISION_TARGET
    assert recall >= RECALL_TARGET


@pytest.mark.parametrize("case", labelled_cases(), ids=lambda c: c["text"][:40])
def test_nothing_forbidden_is_proposed(rules, frameworks, case):
    assert not labels(rules.read(case["text"]), frameworks) & set(case["must_not"])


@pytest.mark.parametrize("case", labelled_cases(), ids=lambda c: c["text"][:40])
def test_every_entry_quotes_a_sentence_the_seeker_wrote(rules, case):
    record = rules.read(case["text"])
    written = " ".join(case["text"].split())
    quoted = [s for f in FIELDS for s in getattr(record, f)]
    quoted += [c.evidence for c in record.likely_causes]
    assert all(q in written for q in quoted)
