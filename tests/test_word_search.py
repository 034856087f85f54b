"""SQLite reads words for the counselors' search as PostgreSQL's full-text search
does (the dashboard's tests run the same searches on both databases)."""

from __future__ import annotations

import sqlite3

import pytest

from coach.storage.word_search import holds_word, register, words_of


def test_words_are_lowercased_and_broken_at_anything_but_letters_and_digits():
    assert words_of("Kubernetes, SQL-heavy; l'équipe_2024!") == [
        "kubernetes",
        "sql",
        "heavy",
        "l",
        "équipe",
        "2024",
    ]


@pytest.mark.parametrize(
    ("text", "word", "holds"),
    [
        ("The recruiter said my SQL was thin.", "sql", 1),
        ("I use MySQL daily", "sql", 0),
        ("ÉQUIPE soudée", "équipe", 1),
        ("", "sql", 0),
        (None, "sql", 0),
    ],
)
def test_a_word_is_held_whole_in_any_case(text, word, holds):
    assert holds_word(text, word) == holds


def test_every_sqlite_connection_can_call_it():
    connection = sqlite3.connect(":memory:")
    register(connection)
    found = connection.execute("SELECT holds_word('Leadership practice', 'practice')")
    assert found.fetchone() == (1,)
