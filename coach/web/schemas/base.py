"""The shapes every other schema module builds on, and the checks they share.

`RequestShape`, `QueryShape` and `ResponseShape` are the three kinds of shape the
HTTP contract has (a JSON body taken, a query string, a JSON body answered);
`coach.web.api.requests` and `coach.web.openapi` treat each kind alike. `OneOf`,
`Stage` and `Title` are field types more than one kind uses, and `ID_CONVERTER`
the route converter for an id (at most the storage's `MAX_ID`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import core_schema

from coach.guide.frameworks import STAGES
from coach.storage.models import MAX_ID, MAX_TITLE_CHARS


@dataclass(frozen=True)
class OneOf:
    """A string from a tuple that another area keeps as the one list of its values
    (the roles, the statuses): validated as, and documented as, an enum."""

    choices: tuple[str, ...]

    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.literal_schema(list(self.choices))


# The URL converter for an id in a route: a bigger number is a plain 404.
ID_CONVERTER = f"int(max={MAX_ID})"

Stage = Annotated[str, OneOf(STAGES)]
Title = Annotated[str, Field(min_length=1, max_length=MAX_TITLE_CHARS)]


class RequestShape(BaseModel):
    """A JSON body the API accepts. Strict: `"yes"` is not a boolean, 42 not a string.

    No string in any body may hold a NUL character or a lone surrogate (`\\ud800`):
    `coach.web.api.requests` refuses those for every shape at once."""

    model_config = ConfigDict(strict=True)
    # Whether a request may come without any body at all.
    body_optional: ClassVar[bool] = False


class QueryShape(BaseModel):
    """Query-string arguments; they arrive as text, so numbers are parsed from it."""


class ResponseShape(BaseModel):
    """A JSON body the API answers with. A key not declared here is a bug, not data."""

    model_config = ConfigDict(extra="forbid")
