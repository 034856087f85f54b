"""Leaving careful mode: only the seeker's own word that they are safe now ends
it. Someone else's words, a question, a condition, a time limit, a hedge, a
negation or a warning sign keeps the coach checking in."""

from __future__ import annotations

import pytest

from coach.safety.careful import statement_clauses
from tests.safety.safe_statement_set import NOT_SAFE, SAFE, SAFE_FIGURES_KEY

MIN_SAFE_ACCEPTED = 0.90


# The labelled set -------------------------------------------------------------------------


def test_the_set_is_large_and_varied():
    assert len(SAFE) >= 60
    assert len(NOT_SAFE) >= 80
    assert len({case.text for case in [*SAFE, *NOT_SAFE]}) == len(SAFE) + len(NOT_SAFE)
    for group in {case.group for case in NOT_SAFE} - {"says_something_else"}:
        assert sum(case.group == group for case in NOT_SAFE) >= 8, group


def test_no_unsafe_message_passes_and_nearly_every_safe_one_does(safe_statements, capsys, request):
    accepted = [case for case in SAFE if safe_statements.says_they_are_safe(case.text)]
    wrongly = [case for case in NOT_SAFE if safe_statements.says_they_are_safe(case.text)]
    share = len(accepted) / len(SAFE)
    figures = (
        f"safe statements: {share:.1%} of safe messages accepted ({len(accepted)}/{len(SAFE)}), "
        f"{len(wrongly)}/{len(NOT_SAFE)} not-safe messages accepted"
    )
    request.config.stash[SAFE_FIGURES_KEY] = figures
    with capsys.disabled():
        print(f"\n{figures}")
    assert wrongly == [], f"{figures}; accepted: {[case.label for case in wrongly]}"
    missed = [case.label for case in SAFE if case not in accepted]
    assert share >= MIN_SAFE_ACCEPTED, f"{figures}; missed: {missed}"


@pytest.mark.parametrize("case", NOT_SAFE, ids=lambda c: c.label)
def test_each_not_safe_message_keeps_careful_mode(safe_statements, case):
    assert not safe_statements.says_they_are_safe(case.text)


# Safe statements --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "I'm safe",
        "I am safe now",
        "I'm ok, I'm not going to hurt myself",
        "I feel safe",
        "I'm not in danger",
        "yes I'm safe",
        "I'm safe, my sister is with me",
        "I'm safe. Thanks for checking in.",
    ],
)
def test_the_seeker_saying_they_are_safe_ends_careful_mode(safe_statements, message):
    assert safe_statements.says_they_are_safe(message)


@pytest.mark.parametrize(
    ("safe", "not_safe"),
    [
        ("im safe", "im not safe"),
        ("I'm safe", "i dont feel safe"),
        ("I\u2019m safe", "I don\u2019t feel safe"),
        ("I\u2018m safe now", "I won\u2019t do it tonight"),
        ("I won't hurt myself", "i wont hurt myself tonight"),
        ("I'M SAFE", "I'M NOT SAFE"),
        ("i'M sAfE nOw", "I'm SAFE FOR NOW"),
    ],
)
def test_apostrophes_and_case_do_not_matter(safe_statements, safe, not_safe):
    assert safe_statements.says_they_are_safe(safe)
    assert not safe_statements.says_they_are_safe(not_safe)
    assert safe_statements.holds_a_warning(not_safe)


# Not the seeker's own present word --------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "my mom keeps asking if im safe",
        "my mom asks if I'm safe",
        "she said I'm safe",
        "She said: I'm safe",
        "are you safe?",
        "he texted \u201cI'm safe\u201d",
    ],
)
def test_reported_speech_is_not_a_safe_statement(safe_statements, message):
    assert not safe_statements.says_they_are_safe(message)


@pytest.mark.parametrize("message", ["am I safe?", "am i safe", "I'm safe?", "I'm safe, right?"])
def test_a_question_is_not_a_safe_statement(safe_statements, message):
    assert not safe_statements.says_they_are_safe(message)


def test_a_question_after_a_safe_statement_does_not_undo_it(safe_statements):
    message = "I'm safe. Can we go back to the interview?"
    assert statement_clauses(message) == ["im safe"]
    assert safe_statements.says_they_are_safe(message)


@pytest.mark.parametrize(
    "message",
    [
        "I'd be safe if my sister were here",
        "I would be safe with someone here",
        "I'm safe as long as I stay with my mom",
        "I'm safe when my partner is home",
        "I'll be safe",
    ],
)
def test_a_condition_or_a_future_is_not_a_safe_statement(safe_statements, message):
    assert not safe_statements.says_they_are_safe(message)
    assert safe_statements.holds_a_warning(message)


@pytest.mark.parametrize(
    "message",
    [
        "I won't do it tonight",
        "not today",
        "I'm safe, not today",
        "I'm safe for now",
        "I'm safe at the moment I guess",
        "I'm safe for the moment",
        "I'm not going to hurt myself, not yet",
    ],
)
def test_a_time_limit_is_not_a_safe_statement(safe_statements, message):
    assert not safe_statements.says_they_are_safe(message)
    assert safe_statements.holds_a_warning(message)


# Warning signs and hedges next to "I'm safe" ----------------------------------------------


@pytest.mark.parametrize(
    "sign",
    [
        "I've made my decision",
        "I said my goodbyes",
        "I'm giving away my things",
        "I have a plan",
        "I wrote a note",
        "I won't be around",
        "tonight",
        "for now",
        "for the moment",
        "not yet",
        "I guess",
        "probably",
        "maybe",
        "I don't know if I'm safe",
        "I'm not safe",
        "I don't feel safe",
        "I never feel safe",
    ],
)
def test_a_warning_sign_outweighs_a_safe_phrase(safe_statements, sign):
    for message in (f"I'm safe, {sign}", f"{sign}. I'm safe", f"I'm safe and {sign.lower()}"):
        assert safe_statements.holds_a_warning(message), message
        assert not safe_statements.says_they_are_safe(message), message


@pytest.mark.parametrize(
    "message",
    ["I'm safe, my sister is with me", "I'm safe, thank you", "yes I'm safe, I'm at home"],
)
def test_what_is_said_along_with_safe_is_no_warning(safe_statements, message):
    assert not safe_statements.holds_a_warning(message)


def test_anything_unknown_next_to_safe_gets_one_more_check_in(safe_statements):
    # No warning sign that the rules know, but not a plain safe message either.
    message = "I'm safe, everyone will understand"
    assert not safe_statements.holds_a_warning(message)
    assert not safe_statements.says_they_are_safe(message)


def test_scare_quotes_are_not_a_safe_statement(safe_statements):
    assert safe_statements.says_they_are_safe("I'm safe, it's fine now")
    assert not safe_statements.says_they_are_safe("I'm 'safe'")
    assert not safe_statements.says_they_are_safe("I\u2019m \u2018safe\u2019")


def test_a_clause_starts_after_punctuation_or_a_joining_word():
    assert statement_clauses("my friend came over and I'm safe") == [
        "my friend came over and im safe"
    ]
    assert statement_clauses("Yes. I'm safe; my sister - she's here") == [
        "yes",
        "im safe",
        "my sister",
        "shes here",
    ]
