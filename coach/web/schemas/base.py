"""The shapes every other schema module builds on, and the checks they share.

`RequestShape`, `QueryShape` and `ResponseShape` are the three kinds of shape the
HTTP contract has (a JSON body taken, a query string, a JSON body answered);
`coach.web.api.requests` and `coach.web.openapi` treat each kind alike. `OneOf`,
`Stage` and `Title` are field types more than one kind uses, and `IdConverter`
(named `ID_CONVERTER` in routes) the converter for an id in a path (at most the
storage's `MAX_ID`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import core_schema
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map

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


class IdConverter(IntegerConverter):
    """An id in a route's path: digits. One bigger than any database holds names
    nothing, and is a 404 whatever the method: with `int(max=...)` Werkzeug skipped
    the route and could answer 405, naming methods the path does not have."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, max=MAX_ID)

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)) or int(value) > MAX_ID:
            raise NotFound()
        return int(value)


# The name routes give `IdConverter` (registered on the app's URL map).
ID_CONVERTER = "id"

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
