"""The keyword rules that fill the reflection record, and the record's bounds."""

from __future__ import annotations

import pytest

from coach.coaching.keyword_rules import keyword_rules
from coach.guide.record import MAX_ITEMS, LikelyCause, ReflectionRecord


@pytest.fixture
def rules(app):
    return keyword_rules(app)


@pytest.mark.parametrize(
    ("text", "emotion"),
    [
        ("Honestly I'm gutted.", "disappointment"),
        ("I feel like I'm not good enough for this field", "self-doubt"),
        ("It is so unfair, I'm furious", "anger"),
        ("I'll never get a job at this rate", "hopelessness"),
        ("Part of me is relieved, to be honest", "relief"),
    ],
)
def test_reactions_are_recognised(rules, text, emotion):
    emotions = [e.lower() for e in rules.read(text).emotions]
    assert any(emotion.replace("-", " ") in e.replace("-", " ") for e in emotions), emotions


def test_a_named_feeling_is_kept_in_the_seekers_words(rules):
    assert "numb" in rules.read("Mostly I feel numb and tired.").emotions


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("They asked a technical question about SQL I couldn't answer.", "skills_gap"),
        ("I don't think I was a culture fit with that team.", "culture_fit"),
        ("I hadn't researched the company at all and I rambled.", "preparation"),
        ("The recruiter hinted I was overqualified.", "qualification_mismatch"),
        ("They went with an internal candidate.", "competition"),
    ],
)
def test_causes_come_with_the_sentence_as_evidence(rules, text, cause):
    found = rules.read(f"Well. {text} Anyway.").likely_causes
    assert cause in [c.cause for c in found]
    assert next(c for c in found if c.cause == cause).evidence == text


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("The feedback said my examples were vague.", "feedback"),
        ("I'm good at explaining complex ideas simply.", "strengths"),
        ("I want to redo my portfolio by Friday.", "goals"),
        ("Every morning I'll go for a walk before applying.", "routine"),
        ("My friend Dana is a hiring manager and offered to help.", "support"),
    ],
)
def test_sentences_fill_their_fields(rules, text, field):
    assert getattr(rules.read(text), field) == [text]


def test_saying_the_cause_cannot_be_known_counts(rules):
    assert rules.read("Honestly I have no idea why, it was a generic email.").cause_unknown


def test_unrelated_text_adds_nothing(rules):
    assert rules.read("The weather was grey on Tuesday.").is_empty()


def test_merge_keeps_both_and_removes_repeats():
    first = ReflectionRecord(emotions=["anger"], goals=["Learn SQL"])
    second = ReflectionRecord(emotions=["Anger", "relief"], cause_unknown=True)
    merged = first.merge(second)
    assert merged.emotions == ["anger", "relief"]
    assert merged.goals == ["Learn SQL"]
    assert merged.cause_unknown


def test_the_record_stays_bounded():
    record = ReflectionRecord()
    for n in range(50):
        record = record.merge(
            ReflectionRecord(
                goals=[f"goal {n} " + "x" * 500],
                likely_causes=[LikelyCause(cause="competition", evidence=f"case {n}")],
            )
        )
    assert len(record.goals) == MAX_ITEMS
    assert all(len(goal) <= 240 for goal in record.goals)
    assert len(record.likely_causes) == MAX_ITEMS
    # A full list keeps its earliest facts.
    assert record.goals[0].startswith("goal 0 ")
    assert record.goals[-1].startswith(f"goal {MAX_ITEMS - 1} ")
    assert [c.evidence for c in record.likely_causes] == [f"case {n}" for n in range(MAX_ITEMS)]


def test_an_unknown_cause_code_is_refused():
    with pytest.raises(ValueError, match="cause"):
        ReflectionRecord.model_validate({"likely_causes": [{"cause": "bad_luck", "evidence": "x"}]})


def test_a_record_is_empty_until_any_field_holds_something():
    assert ReflectionRecord().is_empty()
    # `is_empty` reads each field's truth: every default must be empty for that to hold.
    for name in ReflectionRecord.model_fields:
        assert not getattr(ReflectionRecord(), name), name
    assert not ReflectionRecord(cause_unknown=True).is_empty()
    assert not ReflectionRecord(support=["my sister"]).is_empty()
