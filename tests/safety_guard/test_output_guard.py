"""The output guard stops each kind of unsafe reply at its first failing sentence,
whole or streamed, and lets ordinary coaching through unchanged."""

from __future__ import annotations

import random
import re

import pytest

from coach.safety.output_guard import KINDS, CompiledRule, OutputGuard, Rule, UnsafeReply
from tests.safety_guard.conftest import stream_reply
from tests.safety_guard.replies import GOOD_REPLIES, UNSAFE

BEFORE = "Thank you for telling me how the second interview went. That sounds hard."
AFTER = "What would help most right now?"
CASES = [
    pytest.param(kind, sentence, id=f"{kind}-{number}")
    for kind, sentences in UNSAFE.items()
    for number, sentence in enumerate(sentences)
]
SEEDS = range(12)


def test_every_kind_has_several_unsafe_replies():
    assert set(UNSAFE) == set(KINDS)
    assert all(len(sentences) >= 5 for sentences in UNSAFE.values())


def test_every_rule_stops_at_least_one_reply(guard: OutputGuard):
    caught = {guard.check(s).rule for sentences in UNSAFE.values() for s in sentences}
    assert {rule.rule_id for rule in guard.rules} <= caught


@pytest.mark.parametrize(("kind", "sentence"), CASES)
def test_an_unsafe_reply_is_cut_before_its_failing_sentence(guard, kind, sentence):
    verdict = guard.check(f"{BEFORE} {sentence} {AFTER}")
    assert not verdict.ok
    assert verdict.kind == kind
    assert verdict.rule and verdict.rule.startswith(f"{kind}.")
    assert verdict.safe_prefix == BEFORE


@pytest.mark.parametrize(("kind", "sentence"), CASES)
def test_an_unsafe_sentence_in_any_case_is_caught_by_the_same_rule(guard, kind, sentence):
    # The rules match lowercased sentences, most of them without ignoring case.
    rule = guard.check(sentence).rule
    for cased in (sentence.upper(), sentence.title(), sentence.swapcase()):
        assert guard.check(cased).rule == rule, cased


def test_a_pattern_that_names_a_capital_letter_still_ignores_case():
    # Written with a capital, it would never match a lowercased sentence as written.
    rule = Rule(id="named_drug", why="A medicine named as advice.", pattern=r"\bXanax\b")
    compiled = CompiledRule.build("medication.named_drug", "medication", rule, {})
    assert compiled.matches("ask your doctor about xanax")
    assert compiled.pattern.flags & re.IGNORECASE


@pytest.mark.parametrize(("kind", "sentence"), CASES)
def test_an_unsafe_first_sentence_leaves_nothing(guard, kind, sentence):
    verdict = guard.check(f"{sentence}\n\n{AFTER}")
    assert (verdict.ok, verdict.kind, verdict.safe_prefix) == (False, kind, "")


@pytest.mark.parametrize(("kind", "sentence"), CASES)
def test_an_unsafe_bullet_is_cut_at_its_line(guard, kind, sentence):
    verdict = guard.check(f"{BEFORE}\n- Rest tonight.\n- {sentence}\n- {AFTER}")
    assert verdict.kind == kind
    assert verdict.safe_prefix == f"{BEFORE}\n- Rest tonight."


@pytest.mark.parametrize(("kind", "sentence"), CASES)
def test_a_streamed_unsafe_reply_never_shows_the_failing_sentence(guard, kind, sentence):
    reply = f"{BEFORE} {sentence} {AFTER}"
    for seed in SEEDS:
        shown, verdict = stream_reply(guard, reply, seed)
        assert verdict is not None, seed
        assert (verdict.ok, verdict.kind, verdict.safe_prefix) == (False, kind, BEFORE)
        assert BEFORE.startswith(shown)
        assert sentence not in shown
        assert AFTER not in shown


@pytest.mark.parametrize(("kind", "sentence"), CASES)
def test_an_unsafe_last_sentence_without_a_full_stop_is_caught_at_finish(guard, kind, sentence):
    stream = guard.stream()
    assert stream.feed(f"{BEFORE} ") == BEFORE
    assert stream.feed(sentence.rstrip(".!?")) == ""
    with pytest.raises(UnsafeReply) as raised:
        stream.finish()
    assert (raised.value.verdict.kind, raised.value.verdict.safe_prefix) == (kind, BEFORE)


def test_a_failed_stream_stays_failed(guard):
    stream = guard.stream()
    with pytest.raises(UnsafeReply) as first:
        stream.feed("You have depression. ")
    with pytest.raises(UnsafeReply) as again:
        stream.feed("Anyway, how are you? ")
    assert again.value is first.value
    with pytest.raises(UnsafeReply):
        stream.finish()


def test_safe_prefix_counts_sentences_passed_in_the_failing_call(guard):
    stream = guard.stream()
    assert stream.feed("That hurts. ") == "That hurts."
    with pytest.raises(UnsafeReply) as raised:
        stream.feed("It was a close call. I guarantee you'll be hired next time. ")
    assert raised.value.verdict.safe_prefix == "That hurts. It was a close call."
    assert raised.value.verdict.kind == "guarantee"


def test_a_finished_stream_takes_no_more_text(guard):
    stream = guard.stream()
    stream.feed("All done.")
    assert stream.finish() == "All done."
    with pytest.raises(RuntimeError):
        stream.feed(" More.")


def test_there_are_at_least_forty_good_replies():
    assert len(GOOD_REPLIES) >= 40
    assert len(set(GOOD_REPLIES)) == len(GOOD_REPLIES)


@pytest.mark.parametrize("reply", GOOD_REPLIES, ids=lambda reply: reply[:40])
def test_good_coaching_passes_unchanged(guard, reply):
    verdict = guard.check(reply)
    assert (verdict.ok, verdict.kind, verdict.rule) == (True, None, None)
    assert verdict.safe_prefix == reply


@pytest.mark.parametrize("reply", GOOD_REPLIES, ids=lambda reply: reply[:40])
def test_good_coaching_streams_through_unchanged(guard, reply):
    for seed in SEEDS:
        shown, verdict = stream_reply(guard, reply, seed)
        assert verdict is None
        assert shown == reply


@pytest.mark.parametrize("seed", range(200))
def test_any_split_of_a_good_reply_releases_exactly_the_reply(guard, seed):
    rng = random.Random(seed)
    separators = (" ", "\n", "\n\n", "  ", "\n- ", "\n\n1. ")
    reply = "".join(
        rng.choice(GOOD_REPLIES) + rng.choice(separators) for _ in range(rng.randint(1, 5))
    )
    if rng.random() < 0.5:
        reply = reply.rstrip()
    shown, verdict = stream_reply(guard, reply, seed)
    assert verdict is None
    assert shown == reply


@pytest.mark.parametrize("seed", range(100))
def test_any_split_gives_the_same_verdict_as_the_whole_text(guard, seed):
    rng = random.Random(seed)
    kind = rng.choice(KINDS)
    parts = [*rng.sample(GOOD_REPLIES, 3), rng.choice(UNSAFE[kind])]
    rng.shuffle(parts)
    reply = rng.choice((" ", "\n")).join(parts)
    whole = guard.check(reply)
    shown, streamed = stream_reply(guard, reply, seed)
    assert streamed == whole
    assert whole.kind == kind
    assert whole.safe_prefix.startswith(shown)
    assert reply.startswith(whole.safe_prefix)


def test_a_sentence_is_released_as_soon_as_its_end_is_seen(guard):
    stream = guard.stream()
    assert stream.feed("You did well") == ""
    assert stream.feed(".") == ""
    assert stream.feed(" ") == "You did well."
    assert stream.feed("Next") == ""
    assert stream.finish() == " Next"


def test_the_fallback_is_plain_and_passes_the_guard(guard):
    assert guard.fallback
    assert guard.check(guard.fallback).ok
    assert guard.fallback.endswith("?")
