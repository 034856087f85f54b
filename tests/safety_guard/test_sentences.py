"""Where the guard ends a sentence: at ., ! or ? before whitespace, before a new
line or an inline bullet, and at the end of the reply; not inside abbreviations,
decimal numbers or list numbers. Streaming one character at a time releases the
same sentences."""

from __future__ import annotations

import pytest

from coach.safety.output_guard import OutputGuard

SPLITS = [
    ("Dr. Lee can help. Ask her.", ["Dr. Lee can help.", " Ask her."]),
    (
        "Try a course, e.g. SQL basics. Then practise.",
        ["Try a course, e.g. SQL basics.", " Then practise."],
    ),
    ("Pick one, i.e. the closest fit! Good?", ["Pick one, i.e. the closest fit!", " Good?"]),
    ("It took 3.5 hours. That is long.", ["It took 3.5 hours.", " That is long."]),
    ("Version 2.0 of your CV is ready.", ["Version 2.0 of your CV is ready."]),
    ("I applied to 3. Then I stopped.", ["I applied to 3.", " Then I stopped."]),
    ("Steps:\n1. Rest.\n2. Apply.", ["Steps:", "\n1. Rest.", "\n2. Apply."]),
    ("1. Rest well. 2. Apply.", ["1. Rest well.", " 2. Apply."]),
    ("Ideas:\n- one\n- two", ["Ideas:", "\n- one", "\n- two"]),
    ("Ideas:\n* one\n  * nested", ["Ideas:", "\n* one", "\n  * nested"]),
    ("Options \u2022 one \u2022 two", ["Options ", "\u2022 one ", "\u2022 two"]),
    ("Wait... really?! Yes.", ["Wait...", " really?!", " Yes."]),
    ('She said "no." Then she left.', ['She said "no."', " Then she left."]),
    ("(It happens.) Move on.", ["(It happens.)", " Move on."]),
    ("**Done.** Next.", ["**Done.**", " Next."]),
    ("Hello.\n\nA new paragraph.", ["Hello.", "\n\nA new paragraph."]),
    ("At 9 a.m. the call starts. Fine.", ["At 9 a.m. the call starts.", " Fine."]),
    ("No final stop", ["No final stop"]),
    ("Ends with a space. ", ["Ends with a space.", " "]),
    ("", []),
]


@pytest.mark.parametrize(("text", "sentences"), SPLITS, ids=[text for text, _ in SPLITS])
def test_sentence_boundaries(guard: OutputGuard, text: str, sentences: list[str]):
    assert guard.split(text) == sentences


@pytest.mark.parametrize(("text", "sentences"), SPLITS, ids=[text for text, _ in SPLITS])
def test_streaming_one_character_at_a_time_releases_the_same_sentences(
    guard: OutputGuard, text: str, sentences: list[str]
):
    stream = guard.stream()
    released = [stream.feed(character) for character in text]
    released.append(stream.finish())
    assert [piece for piece in released if piece] == sentences


def test_a_rule_is_not_fooled_by_curly_apostrophes_or_emphasis(guard: OutputGuard):
    assert guard.check("You\u2019ll **definitely** get the next job.").kind == "guarantee"
    assert guard.check("I\u2019m  a\tlicensed counsellor.").kind == "false_identity"
