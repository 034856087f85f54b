"""How each setting's value is read and checked, for `coach.config`'s table.

A parser takes a value from any source (text from the environment, or a Python
value from the instance `config.py` or a test) and returns the value the app uses,
or raises ValueError saying what it expected.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

Parser = Callable[[object], Any]

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
# Flask-Limiter's storages that are Redis, as limits names them.
REDIS_SCHEMES = frozenset({"redis", "rediss", "redis+unix", "redis+cluster", "redis+sentinel"})
# The distribution's name on the package index, for the install hint of its extras.
DISTRIBUTION = "second-interview-coach"


def text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected non-empty text")
    return value


def boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("expected true or false (also 1/0, yes/no, on/off)")


def integer(minimum: int) -> Parser:
    def parse(value: object) -> int:
        # bool is an int to Python, but `True` is no count of anything.
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError("expected a whole number")
        try:
            number = int(value)
        except ValueError:
            raise ValueError("expected a whole number") from None
        if number < minimum:
            raise ValueError(f"expected at least {minimum}")
        return number

    return parse


def positive_number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expected a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError("expected a number") from None
    if not math.isfinite(number) or number <= 0:
        raise ValueError("expected a number above 0")
    return number


def choice(*allowed: str) -> Parser:
    def parse(value: object) -> str:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return str(value)

    return parse


def rate_limit(value: object) -> str:
    """A limit as Flask-Limiter reads it (`30 per minute`, `5/second; 100 per day`),
    checked with the same parser, since a limit it cannot read is silently no limit."""
    limit = text(value)
    try:
        items = parse_many(limit)
    except ValueError:
        raise ValueError("expected a rate limit such as '30 per minute'") from None
    if any(item.amount < 1 for item in items):
        raise ValueError("expected at least 1 per period")
    return limit


def database_url(value: object) -> str:
    url = text(value)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError("expected an SQLAlchemy URL such as sqlite:///coach.db") from None
    if parsed.get_driver_name() == "psycopg":
        _require_extra("psycopg", "postgres")
    return url


def redis_url(value: object) -> str:
    url = text(value)
    if urlsplit(url).scheme not in REDIS_SCHEMES:
        raise ValueError("expected a Redis URL such as redis://host:6379/0")
    _require_extra("redis", "redis")
    return url


def _require_extra(module: str, extra: str) -> None:
    """Drivers are extras: say how to install one, at start-up rather than on first use."""
    if importlib.util.find_spec(module) is None:
        raise ValueError(
            f"needs the {module} package, which is not installed: "
            f"pip install '{DISTRIBUTION}[{extra}]'"
        )


def http_url(value: object) -> str:
    url = text(value)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http:// or https:// URL")
    return url


def folder(value: object) -> str:
    path = text(value)
    if not Path(path).is_dir():
        raise ValueError("expected an existing folder")
    return path
