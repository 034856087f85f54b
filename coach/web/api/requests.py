"""Reading API requests: the JSON body and the query string, checked against their
shapes in `coach.web.schemas`, or a clear 400.

The one place a JSON body is parsed, so the one place that refuses what no shape
could: broken or too deeply nested JSON, a body past the size limit, and text the
databases cannot store (`coach.storage.text`) in any string of any body."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import Flask, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from coach.errors import InvalidInput
from coach.storage.database import READ_ONLY_METHODS
from coach.storage.text import INVALID_CHARACTERS, require_storable
from coach.web.schemas import QueryShape, RequestShape

Body = TypeVar("Body", bound=RequestShape)
Query = TypeVar("Query", bound=QueryShape)


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a clear 400 (a 413 when it is too large)."""
    if not request.is_json:
        raise InvalidInput("The request body must be a JSON object.", code="invalid_json")
    try:
        body = json.loads(request_body())
    except UnicodeDecodeError:
        raise InvalidInput(
            "The request body is not valid UTF-8.", code=INVALID_CHARACTERS
        ) from None
    # RecursionError: a body nested thousands deep (`[[[[...`) outruns the parser.
    except (ValueError, RecursionError):
        raise InvalidInput("The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object.", code="invalid_json")
    for name, value in body.items():
        # The name is checked before it appears in a message of its own.
        require_storable(name, "A field's name")
        _require_storable_strings(value, f'"{name}"')
    return body


def request_body() -> bytes:
    """The raw body, or a 413 when it exceeds MAX_CONTENT_LENGTH.

    A body sent without Content-Length (chunked) is read only up to the limit, and
    Werkzeug hands back what it read, cut short, as if it were all: as JSON that is
    "invalid", a 400 for what is a 413. One byte more from the server's input tells
    a body that filled the limit exactly from one that went past it.
    """
    data = request.get_data()
    limit = request.max_content_length
    cut_short = request.content_length is None and limit is not None and len(data) >= limit
    if cut_short and request.environ["wsgi.input"].read(1):
        raise RequestEntityTooLarge()  # the one 413 of `coach.web.errors`
    return data


def read_body_first() -> None:
    """Before any view: an unsafe request's whole body is read, so that no transaction
    (on SQLite the write lock, on PostgreSQL a pooled connection) is ever held while a
    slow or stalled client sends it. What the view parses later comes from memory;
    the size limit keeps that memory bounded."""
    if request.method not in READ_ONLY_METHODS:
        request_body()


def init_app(app: Flask) -> None:
    app.before_request(read_body_first)


def _require_storable_strings(value: Any, what: str) -> None:
    """Every string in a JSON value (keys too) storable, or a 400 naming `what`.
    Without recursion: the value may be nested hundreds deep."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            require_storable(item, what)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def parse_body(shape: type[Body]) -> Body:
    """The request's JSON object as `shape`, or a 400 that names each wrong field."""
    if shape.body_optional and not request_body():
        return shape()
    return _validated(shape, json_body())


def parse_query(shape: type[Query]) -> Query:
    """The query string's arguments as `shape`, or a 400 that names each wrong one."""
    arguments = request.args.to_dict()
    for name, value in arguments.items():
        require_storable(name, "A parameter's name")
        require_storable(value, f'"{name}"')
    return _validated(shape, arguments)


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
