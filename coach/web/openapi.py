"""The OpenAPI 3.1 document, generated from the app's routes and the shapes in
`coach.web.schemas`, so that the two cannot drift apart.

Each API view says what it takes and answers with `@documented(...)`, right under
its route decorator; its docstring is the operation's summary, its blueprint the
tag, its endpoint the operationId. `build_openapi` walks the app's url_map; the
errors that follow from a route's nature (it needs a caller, takes a body, has
an id in its path, is an unsafe method) are added here, the others each view
names.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from werkzeug.routing import IntegerConverter, Rule

from coach.web.schemas import Error, QueryShape, RequestShape

View = TypeVar("View", bound=Callable[..., Any])

OPERATION_ATTRIBUTE = "openapi_operation"
EXTENSION_KEY = "coach.openapi"
REF_TEMPLATE = "#/components/schemas/{model}"
EVENT_STREAM = "text/event-stream"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
METHOD_ORDER = ["GET", "POST", "PUT", "PATCH", "DELETE"]

ERROR_DESCRIPTIONS = {
    400: "The body or a parameter is not valid: `invalid_json`, `invalid_input`,"
    " `invalid_characters` (a string holds a NUL character or a lone surrogate, which"
    " cannot be stored), for a message `empty_message`, for a record correction"
    " `no_such_entry`; for a note `no_such_message`; `invalid_cursor`; `no_token`;"
    " `not_a_guest`.",
    401: "No caller, or a token that is not valid: `not_authenticated`, `bad_token`,"
    " `bad_credentials`.",
    403: "A browser's cookie-authenticated request without its CSRF token: `csrf_failed`;"
    " a caller without the role the route needs: `counselors_only`, `admins_only`;"
    " another counselor's note: `not_your_note`.",
    404: "No such session (or note, plan, step), or not the caller's (for a counselor:"
    " not shared), or an id no database can hold: `not_found`.",
    409: "Not now: a reply is being written (`reply_in_progress`), there is nothing to"
    " retry or cancel (`nothing_to_retry`, `nothing_to_cancel`), the reply was"
    " cancelled (`cancelled`), the record changed since it was shown (`record_changed`),"
    " or the email belongs to another account (`email_taken`).",
    413: "The body or the message is too long: `too_large`, `message_too_long`.",
    429: "Too many requests from this caller: `rate_limited`.",
    502: "The model could not answer; the message is stored and `/retry` answers it again.",
    503: "The database is busy or unreachable (`database_busy`), or the server stopped"
    " while it was answering (`server_stopping`: what was written is kept as partial, and"
    " `/retry` answers again); try again in a moment.",
}


@dataclass(frozen=True)
class Download:
    """An answer that is a document in another format (Markdown, iCalendar), not JSON."""

    media_type: str
    description: str


Answer = type[BaseModel] | Download | None


@dataclass(frozen=True)
class Operation:
    """What a view takes and answers, beyond what its route already says."""

    answers: Mapping[int, Answer]
    body: type[RequestShape] | None = None
    query: type[QueryShape] | None = None
    errors: tuple[int, ...] = ()
    public: bool = False
    # Asked for with `Accept: text/event-stream`, the first answer comes as these events.
    events: Mapping[str, type[BaseModel]] = field(default_factory=dict)


def documented(
    answers: Mapping[int, Answer],
    *,
    body: type[RequestShape] | None = None,
    query: type[QueryShape] | None = None,
    errors: tuple[int, ...] = (),
    public: bool = False,
    events: Mapping[str, type[BaseModel]] | None = None,
) -> Callable[[View], View]:
    """Describe a view for the OpenAPI document; place it right under the route."""
    operation = Operation(answers, body, query, errors, public, events or {})

    def describe(view: View) -> View:
        setattr(view, OPERATION_ATTRIBUTE, operation)
        return view

    return describe


def openapi_document(app: Flask) -> dict[str, Any]:
    """The app's document, built once: its routes and shapes are fixed at start-up."""
    if EXTENSION_KEY not in app.extensions:
        app.extensions[EXTENSION_KEY] = build_openapi(app)
    document: dict[str, Any] = app.extensions[EXTENSION_KEY]
    return document


class _WithoutFieldTitles(GenerateJsonSchema):
    # "title": "Per Page" beside every property only repeats its name.
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


@dataclass(frozen=True)
class _Route:
    rule: Rule
    method: str
    endpoint: str
    view: Callable[..., Any]
    operation: Operation


def build_openapi(app: Flask) -> dict[str, Any]:
    routes = list(_documented_routes(app))
    refs, schemas = _component_schemas(routes)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", route.rule.rule)
        paths.setdefault(path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "The coach",
            "version": "1",
            "description": "Coaching through a job rejection after a second interview."
            " API clients authenticate with `Authorization: Bearer <token>`, a token from"
            " `/api/v1/auth/guest` or `/api/v1/auth/login`. Every error is"
            ' `{"error": {"code", "message"}}`.',
        },
        "servers": [{"url": "/"}],
        "tags": _tags(app, routes),
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _documented_routes(app: Flask) -> Iterator[_Route]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        operation = getattr(view, OPERATION_ATTRIBUTE, None)
        if operation is None:
            continue
        for method in sorted(_methods(rule), key=METHOD_ORDER.index):
            yield _Route(rule, method, rule.endpoint, view, operation)


def _component_schemas(
    routes: list[_Route],
) -> tuple[dict[type[BaseModel], dict[str, Any]], dict[str, Any]]:
    """Every shape the routes use, once, under components/schemas; and a $ref to each."""
    used: dict[type[BaseModel], JsonSchemaMode] = {Error: "serialization"}
    for route in routes:
        if route.operation.body is not None:
            used[route.operation.body] = "validation"
        for shape in [*route.operation.answers.values(), *route.operation.events.values()]:
            if isinstance(shape, type):
                used[shape] = "serialization"
    refs, definitions = models_json_schema(
        list(used.items()), ref_template=REF_TEMPLATE, schema_generator=_WithoutFieldTitles
    )
    by_shape = {shape: dict(refs[(shape, mode)]) for shape, mode in used.items()}
    return by_shape, dict(definitions.get("$defs", {}))


def _operation(route: _Route, refs: Mapping[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    operation = route.operation
    summary, _, description = (inspect.getdoc(route.view) or "").partition("\n")
    described: dict[str, Any] = {
        "operationId": route.endpoint.removeprefix("api.").replace(".", "_")
        + ("" if len(_methods(route.rule)) == 1 else f"_{route.method.lower()}"),
        "tags": [_tag_name(route.endpoint)],
        "summary": summary,
    }
    if description.strip():
        described["description"] = description.strip()
    if operation.public:
        described["security"] = []
    parameters = _path_parameters(route.rule) + _query_parameters(operation.query)
    if parameters:
        described["parameters"] = parameters
    if operation.body is not None:
        described["requestBody"] = {
            "required": not operation.body.body_optional,
            "content": {"application/json": {"schema": refs[operation.body]}},
        }
    described["responses"] = _answers(operation, refs) | _errors(route, refs)
    return described


def _methods(rule: Rule) -> set[str]:
    return (rule.methods or set()) - {"HEAD", "OPTIONS"}


def _answers(
    operation: Operation, refs: Mapping[type[BaseModel], dict[str, Any]]
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for position, (status, shape) in enumerate(operation.answers.items()):
        # The first answer is the usual one; only it may come as a stream instead.
        if shape is None:
            answers[str(status)] = {"description": "No content."}
            continue
        if isinstance(shape, Download):
            answers[str(status)] = {
                "description": shape.description,
                "content": {shape.media_type: {"schema": {"type": "string"}}},
            }
            continue
        content: dict[str, Any] = {"application/json": {"schema": refs[shape]}}
        if position == 0 and operation.events:
            content[EVENT_STREAM] = _event_stream(operation.events, refs)
        answers[str(status)] = {"description": _first_line(shape), "content": content}
    return answers


def _event_stream(
    events: Mapping[str, type[BaseModel]], refs: Mapping[type[BaseModel], dict[str, Any]]
) -> dict[str, Any]:
    listed = "; ".join(
        f"`event: {name}` with {_first_line(shape)}" for name, shape in events.items()
    )
    return {
        "schema": {
            "type": "string",
            "description": "With `Accept: text/event-stream`, Server-Sent Events as the"
            f" reply is written, each `data` a JSON object: {listed}",
        },
        # Tools that know no event streams ignore it; the tests check each event by it.
        "x-events": {name: refs[shape] for name, shape in events.items()},
    }


def _errors(route: _Route, refs: Mapping[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    statuses = set(route.operation.errors)
    if route.operation.body is not None or route.operation.query is not None:
        statuses.add(400)
    if route.operation.body is not None:
        statuses.add(413)  # MAX_CONTENT_LENGTH
    if not route.operation.public:
        statuses |= {401, 503}  # finding the caller reads the database
    if route.method in UNSAFE_METHODS:
        statuses.add(403)  # the CSRF check on cookie-authenticated requests
    if route.rule.arguments:
        statuses.add(404)
    error = {"application/json": {"schema": refs[Error]}}
    return {
        str(status): {"description": ERROR_DESCRIPTIONS[status], "content": error}
        for status in sorted(statuses)
        if status not in route.operation.answers
    }


def _path_parameters(rule: Rule) -> list[dict[str, Any]]:
    parameters = []
    # werkzeug keeps a rule's converters only in this attribute.
    for name, converter in rule._converters.items():
        schema: dict[str, Any] = {"type": "string"}
        if isinstance(converter, IntegerConverter):
            schema = {"type": "integer"}
            if not converter.signed:
                schema["minimum"] = 0
            if converter.max is not None:
                schema["maximum"] = converter.max
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    return parameters


def _query_parameters(query: type[QueryShape] | None) -> list[dict[str, Any]]:
    if query is None:
        return []
    schema = query.model_json_schema(schema_generator=_WithoutFieldTitles)
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema["properties"].items()
    ]


def _tag_name(endpoint: str) -> str:
    return endpoint.rpartition(".")[0].rpartition(".")[2]


def _tags(app: Flask, routes: list[_Route]) -> list[dict[str, str]]:
    """One tag per blueprint, described by its module's docstring."""
    tags: dict[str, str] = {}
    for route in routes:
        blueprint = app.blueprints[route.endpoint.rpartition(".")[0]]
        module_doc = inspect.getdoc(sys.modules[blueprint.import_name]) or ""
        tags.setdefault(_tag_name(route.endpoint), " ".join(module_doc.split("\n\n")[0].split()))
    return [{"name": name, "description": text} for name, text in tags.items()]


def _first_line(shape: type[BaseModel]) -> str:
    return (inspect.getdoc(shape) or shape.__name__).split("\n")[0].rstrip(".")
