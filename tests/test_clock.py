"""The app's clock: the real date unless a test puts a fixed one in its place."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask

from coach.coaching.clock import EXTENSION_KEY, FixedClock, clock


def test_the_app_reads_todays_date_in_utc(app: Flask) -> None:
    assert clock(app).today() == datetime.now(UTC).date()


def test_a_fixed_clock_always_reads_its_day(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = FixedClock(date(2026, 3, 2))
    assert clock(app).today() == date(2026, 3, 2)
