"""Every response the tests see from the JSON API, checked against the app's own
generated OpenAPI document: its status is listed for the operation, its content
type is one the operation answers with, and its body (or each Server-Sent Event's
data) is valid against the schema given there.

`CheckedClient` is the test client that does this; `tests/conftest.py` makes it
every app's test client. A streamed answer is read to its end before the test
sees it, as the tests read them anyway.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openapi_schema_validator import OAS31Validator
from werkzeug.test import TestResponse

from coach.web.openapi import EVENT_STREAM, OPERATION_ATTRIBUTE, openapi_document

CHECKED_PATHS = re.compile(r"^/api/v1/|^/healthz$")


def parse_events(body: str) -> list[tuple[str, Any]]:
    """Server-Sent Events as (event name, decoded data) pairs; comments (lines that
    start with a colon, such as `: keep-alive`) are skipped, as a browser skips them."""
    events = []
    for block in body.strip().split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith(":")]
        if not lines:
            continue
        fields = dict(line.split(": ", 1) for line in lines if ": " in line)
        events.append((fields["event"], json.loads(fields["data"])))
    return events


class CheckedClient(FlaskClient):
    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        response = super().open(*args, **kwargs)
        check_response(self.application, response.request.method, response.request.path, response)
        return response


def check_response(app: Flask, method: str, path: str, response: Any) -> None:
    """Fail unless `response` to `method path` is one the app's document describes."""
    if not CHECKED_PATHS.match(path) or method == "OPTIONS":
        return
    document = _document(app)
    where = f"{method} {path} answered {response.status_code}"
    operation = find_operation(document, "GET" if method == "HEAD" else method, path)
    if operation is None:
        # A path or method the API does not have: a 404 or 405, in the one error shape.
        assert response.status_code in (404, 405), f"{where}, but is not in the document"
        assert_valid(document, response.get_json(), {"$ref": "#/components/schemas/Error"}, where)
        return
    answer = operation["responses"].get(str(response.status_code))
    assert answer is not None, f"{where}, a status its description does not list"
    content = answer.get("content", {})
    if not content:
        assert response.get_data() == b"", f"{where} with a body, where none is described"
        return
    assert response.mimetype in content, f"{where} with {response.mimetype}, not described"
    if method == "HEAD":
        return
    media = content[response.mimetype]
    if response.mimetype == EVENT_STREAM:
        for name, data in parse_events(response.get_data(as_text=True)):
            assert name in media["x-events"], f"{where}: event {name!r} is not described"
            assert_valid(document, data, media["x-events"][name], f"{where}, event {name}")
    elif response.is_json:
        assert_valid(document, response.get_json(), media["schema"], where)
    else:  # a document in another format (Markdown, iCalendar): text
        assert_valid(document, response.get_data(as_text=True), media["schema"], where)


# An app's document is built from its documented routes alone (each view's
# description, the shapes it names, its blueprint's docstring), and building one
# takes a tenth of a second: the suite's thousand apps share a few sets of routes, so
# the check keeps one document for each set.
_DOCUMENTS: dict[tuple[Any, ...], dict[str, Any]] = {}


def _document(app: Flask) -> dict[str, Any]:
    key = tuple(
        sorted(
            (
                (rule.rule, rule.endpoint, tuple(sorted(rule.methods or ())), view)
                for rule in app.url_map.iter_rules()
                # Undocumented views (such as each app's own `static`) are not in it.
                if hasattr(view := app.view_functions[rule.endpoint], OPERATION_ATTRIBUTE)
            ),
            key=lambda route: route[:3],
        )
    )
    if key not in _DOCUMENTS:
        _DOCUMENTS[key] = openapi_document(app)
    return _DOCUMENTS[key]


def find_operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    for template, item in document["paths"].items():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            operation: dict[str, Any] | None = item.get(method.lower())
            return operation
    return None


def assert_valid(
    document: dict[str, Any], instance: Any, schema: dict[str, Any], where: str
) -> None:
    # The schema's $refs point into the document's components: give it them.
    validator = OAS31Validator(
        {**schema, "components": document["components"]},
        format_checker=OAS31Validator.FORMAT_CHECKER,
    )
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]
    assert not problems, f"{where}, a body that breaks its description: {problems}"
