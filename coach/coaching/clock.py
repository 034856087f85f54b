"""Today's date as the coach sees it: the date in the model's instructions and the
first day a plan counts from.

One clock per app, in `app.extensions`. Tests that need a known day put a
`FixedClock` there; nothing asks whether it runs under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask, current_app

EXTENSION_KEY = "coach.coaching.clock"


class Clock:
    """The real date, in UTC (the server's idea of the seeker's day is no better)."""

    def today(self) -> date:
        return datetime.now(UTC).date()


class FixedClock(Clock):
    """A clock that always reads the same day."""

    def __init__(self, day: date) -> None:
        self.day = day

    def today(self) -> date:
        return self.day


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = Clock()


def clock(app: Flask | None = None) -> Clock:
    found: Clock = (app or current_app).extensions[EXTENSION_KEY]
    return found
