"""The support-strategy labeller and the Motivational Interviewing ratios: the rules
against hand-labelled coach replies (agreement printed), and the ratios' thresholds."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from coach.counsel.schema import STRATEGIES
from coach.counsel.strategies import label_reply, session_quality

CASES = tomllib.loads((Path(__file__).parent / "data" / "strategy_labels.toml").read_text())[
    "reply"
]
MIN_AGREEMENT = 0.8
MIN_KAPPA = 0.75


def cohen_kappa(expected: list[str], found: list[str]) -> float:
    total = len(expected)
    observed = sum(e == f for e, f in zip(expected, found, strict=True)) / total
    by_expected, by_found = Counter(expected), Counter(found)
    chance = sum(by_expected[s] * by_found[s] for s in STRATEGIES) / total**2
    return (observed - chance) / (1 - chance)


def test_the_rules_agree_with_the_hand_labels():
    expected = [case["label"] for case in CASES]
    found = [label_reply(case["text"]).strategy for case in CASES]
    agreement = sum(e == f for e, f in zip(expected, found, strict=True)) / len(CASES)
    kappa = cohen_kappa(expected, found)
    print(
        f"\nstrategy labeller: {agreement:.0%} agreement, Cohen's kappa {kappa:.2f}"
        f" on {len(CASES)} hand-labelled replies"
    )
    for case, label in zip(CASES, found, strict=True):
        if label != case["label"]:
            print(f"  disagrees: {case['text']!r}: hand {case['label']}, rules {label}")
    assert set(expected) == set(STRATEGIES), "the set covers every strategy"
    assert agreement >= MIN_AGREEMENT
    assert kappa >= MIN_KAPPA


def test_every_label_says_which_rule_decided():
    label = label_reply("It sounds like you're really disappointed.")
    assert label.source == "rules"
    assert label.reason == "names a feeling"


@pytest.mark.parametrize(
    ("replies", "r_to_q", "complex_share"),
    [
        # 2 reflections (1 complex), 1 question: 2:1 good; 50 % good.
        (
            ["It sounds like you're disappointed. What happened?", "So you reached the final."],
            ("good", 2.0),
            ("good", 0.5),
        ),
        # 1 simple reflection, 1 question: 1:1 fair; 0 % complex low.
        (["So you reached the final. What happened?"], ("fair", 1.0), ("low", 0.0)),
        # Questions only: no reflections, low; complex share has nothing to divide.
        (["What happened?", "Who told you?"], ("low", 0.0), ("n/a", None)),
        ([], ("n/a", None), ("n/a", None)),
    ],
)
def test_the_mi_ratios_and_their_ratings(replies, r_to_q, complex_share):
    quality = session_quality(replies)
    assert quality.source == "rules"
    assert (quality.reflections_to_questions.rating, quality.reflections_to_questions.value) == (
        r_to_q
    )
    assert (quality.complex_reflections.rating, quality.complex_reflections.value) == (
        complex_share
    )
