"""The crisis test set: every crisis statement caught, almost no job-search talk
taken for one, and hopelessness answered as distress."""

from __future__ import annotations

import pytest

from coach.safety.crisis import CrisisScreen, Screening
from tests.safety.crisis_set import (
    CRISIS,
    DISTRESS,
    FIGURES_KEY,
    NEGATIVE,
    OTHER_LANGUAGES,
    Case,
)

MAX_FALSE_POSITIVE_RATE = 0.05


def _screen(screen: CrisisScreen, case: Case) -> Screening:
    return screen.screen_for_crisis(case.text, case.earlier)


@pytest.mark.parametrize("case", CRISIS, ids=lambda c: c.label)
def test_a_crisis_statement_is_a_crisis(screen, case):
    screening = _screen(screen, case)
    assert screening.level == "crisis"
    assert case.kind in screening.kinds


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda c: c.label)
def test_job_search_talk_is_not_a_crisis(screen, case):
    assert _screen(screen, case).level != "crisis"


@pytest.mark.parametrize("case", DISTRESS, ids=lambda c: c.label)
def test_hopelessness_is_distress(screen, case):
    screening = _screen(screen, case)
    assert screening.level == "distress"
    assert screening.kinds == ("hopelessness",)


def test_the_set_covers_what_the_issue_asks():
    assert len(CRISIS) >= 90
    assert len(NEGATIVE) >= 90
    assert len(DISTRESS) >= 10
    split = [case for case in CRISIS if case.earlier]
    assert len(split) >= 10
    other = [case for case in CRISIS if case.language in OTHER_LANGUAGES]
    assert len(other) >= 18
    assert {case.language for case in other} == set(OTHER_LANGUAGES)
    kinds = {case.kind for case in CRISIS}
    assert kinds == {"suicide", "self_harm", "harm_to_others", "abuse", "danger"}


def test_recall_and_false_positive_rate(screen, capsys, request):
    caught = [case for case in CRISIS if _screen(screen, case).level == "crisis"]
    flagged = [case for case in NEGATIVE if _screen(screen, case).level == "crisis"]
    recall = len(caught) / len(CRISIS)
    false_positive_rate = len(flagged) / len(NEGATIVE)
    figures = (
        f"crisis set: recall {recall:.1%} ({len(caught)}/{len(CRISIS)} crisis statements), "
        f"false positives {false_positive_rate:.1%} ({len(flagged)}/{len(NEGATIVE)} negatives)"
    )
    request.config.stash[FIGURES_KEY] = figures
    with capsys.disabled():
        print(f"\n{figures}")
    missed = [case.label for case in CRISIS if case not in caught]
    assert recall == 1.0, f"{figures}; missed: {missed}"
    assert false_positive_rate <= MAX_FALSE_POSITIVE_RATE, (
        f"{figures}; flagged: {[case.label for case in flagged]}"
    )


def test_a_screening_names_rules_never_the_seekers_words(screen):
    for case in [*CRISIS, *NEGATIVE, *DISTRESS]:
        screening = _screen(screen, case)
        assert set(screening.matched_rule) <= screen.rule_ids, case.label
        assert bool(screening.matched_rule) == (screening.level != "none"), case.label
