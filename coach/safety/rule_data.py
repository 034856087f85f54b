"""Reading the safety data under `prompts/safety/`: TOML checked by pydantic, and
phrase patterns compiled against the normal form of `coach.safety.normalise`.

A file that does not parse, does not fit its schema, or holds a pattern that
does not compile stops the app at start with a `ConfigurationError` naming the
file and the entry, never later in the middle of a seeker's turn.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from coach.errors import ConfigurationError

_Model = TypeVar("_Model", bound=BaseModel)
# `{name}` in a pattern stands for the named word group of its file; numeric
# quantifiers such as `{0,3}` are left alone.
_WORD_REFERENCE = re.compile(r"\{([a-z_]+)\}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def load_validated(path: Path, model: type[_Model]) -> _Model:
    """The file at `path` as a `model`, or a `ConfigurationError` saying what is wrong."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"safety data {path} cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"safety data {path} is not valid TOML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(_describe(error, data) for error in exc.errors())
        raise ConfigurationError(f"safety data {path} is not valid:\n{problems}") from exc


def _describe(error: ErrorDetails, data: Any) -> str:
    """One validation error, naming the entry by its `id` where it has one."""
    where: list[str] = []
    node = data
    for part in error["loc"]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
        label = str(part)
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            label = f"{part} ({node['id']})"
        where.append(label)
    return f"- {'.'.join(where) or 'file'}: {error['msg']}"


def expand_words(pattern: str, words: Mapping[str, str]) -> str:
    """`pattern` with each `{name}` replaced by its word group, as a non-capturing group."""

    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in words:
            raise ValueError(f"pattern {pattern!r} names an unknown word group {{{name}}}")
        return f"(?:{words[name]})"

    return _WORD_REFERENCE.sub(replace, pattern)


def check_normal_form(pattern: str) -> None:
    """Patterns are matched against normalised text, so they must be written in it:
    lower case ASCII, no apostrophes."""
    if not pattern.isascii() or pattern != pattern.lower() or "'" in pattern:
        raise ValueError(
            f"pattern {pattern!r} must be lower case ASCII without apostrophes or accents"
        )


def compile_phrases(patterns: Sequence[str], words: Mapping[str, str]) -> re.Pattern[str]:
    """One regular expression matching any of `patterns` as whole words."""
    alternatives = []
    for pattern in patterns:
        check_normal_form(pattern)
        alternative = rf"\b(?:{expand_words(pattern, words)})\b"
        try:
            re.compile(alternative)
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from exc
        alternatives.append(alternative)
    return re.compile("|".join(alternatives))
