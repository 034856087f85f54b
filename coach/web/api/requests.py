"""Reading API requests: the JSON body and the query string, checked against their
shapes in `coach.web.schemas`, or a clear 400."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from coach.errors import InvalidInput
from coach.web.schemas import QueryShape, RequestShape

# Ids beyond this are not ids of ours; the converter makes them a plain 404.
ID_CONVERTER = "int(max=2147483647)"

Body = TypeVar("Body", bound=RequestShape)
Query = TypeVar("Query", bound=QueryShape)


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a clear 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.", code="invalid_json")
    return body


def parse_body(shape: type[Body]) -> Body:
    """The request's JSON object as `shape`, or a 400 that names each wrong field."""
    if shape.body_optional and not request.get_data():
        return shape()
    return _validated(shape, json_body())


def parse_query(shape: type[Query]) -> Query:
    """The query string's arguments as `shape`, or a 400 that names each wrong one."""
    return _validated(shape, request.args.to_dict())


Shape = TypeVar("Shape", bound=BaseModel)


def _validated(shape: type[Shape], data: dict[str, Any]) -> Shape:
    try:
        return shape.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    """One clause per wrong field, e.g. `stage: Input should be 'emotions', ...`."""
    problems: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        # "May be left out" is the other branch of every optional field: no news.
        if error["type"] == "missing_sentinel_error":
            continue
        # Bodies and queries are flat; the rest of a location names union branches.
        name = str(error["loc"][0]) if error["loc"] else "body"
        problems.setdefault(name, error["msg"])
    return "; ".join(f"{name}: {message}" for name, message in problems.items()) + "."
