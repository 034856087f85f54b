"""The generated OpenAPI document and its browsable page: what it must say, that the
response check every test runs is real, and that /api/docs works from our own
origin under the strict Content Security Policy."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from flask import Response

from coach import CONTENT_SECURITY_POLICY
from coach.web import schemas
from tests.openapi_check import check_response


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").json


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_operation_ids_are_unique_and_every_operation_is_tagged_and_summarised(document):
    operation_ids = [op["operationId"] for _, _, op in _operations(document)]
    assert len(operation_ids) == len(set(operation_ids)) > 10
    tags = {tag["name"] for tag in document["tags"]}
    for path, method, operation in _operations(document):
        assert operation["summary"], (method, path)
        assert set(operation["tags"]) <= tags, (method, path)


def test_every_request_shape_is_used_by_an_operation(document):
    bodies = {
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rpartition("/")[2]
        for _, _, op in _operations(document)
        if "requestBody" in op
    }
    assert bodies == {shape.__name__ for shape in schemas.RequestShape.__subclasses__()}
    parameters = {
        parameter["name"]
        for _, _, op in _operations(document)
        for parameter in op.get("parameters", [])
        if parameter["in"] == "query"
    }
    for shape in schemas.QueryShape.__subclasses__():
        assert set(shape.model_fields) <= parameters, shape.__name__


def test_every_response_shape_is_in_the_document(document):
    described = set(document["components"]["schemas"])
    assert {shape.__name__ for shape in schemas.ResponseShape.__subclasses__()} <= described


def test_the_document_says_what_the_hand_written_one_missed(document):
    components = document["components"]["schemas"]
    assert "replying" in components["Session"]["required"]
    assert "title" in components["SessionCreate"]["properties"]
    turn = document["paths"]["/api/v1/sessions/{session_id}/messages"]["post"]
    assert {"400", "401", "403", "404", "409", "413", "429", "502", "503"} <= set(turn["responses"])
    stream = turn["responses"]["201"]["content"]["text/event-stream"]
    assert set(stream["x-events"]) == {"message", "delta", "done", "error"}
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["paths"]["/api/v1/auth/guest"]["post"]["security"] == []


def test_the_session_id_parameter_is_an_integer_within_the_ids_we_use(document):
    parameters = document["paths"]["/api/v1/sessions/{session_id}"]["get"]["parameters"]
    (parameter,) = [p for p in parameters if p["in"] == "path"]
    assert parameter["schema"] == {"type": "integer", "minimum": 0, "maximum": 2147483647}


def test_a_session_is_shown_a_page_of_messages_at_a_time(document):
    parameters = document["paths"]["/api/v1/sessions/{session_id}"]["get"]["parameters"]
    query = {p["name"]: p for p in parameters if p["in"] == "query"}
    assert set(query) == {"limit", "before"}
    assert not any(p["required"] for p in query.values())
    limit = query["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 200, 50)
    session = document["components"]["schemas"]["Session"]["properties"]
    assert session["has_earlier"]["type"] == "boolean"


# The check that every test's client runs must be able to fail.


def _json_response(body, status=200):
    return Response(json.dumps(body), status=status, mimetype="application/json")


def test_the_check_refuses_a_body_that_breaks_its_shape(app, client, api):
    token = api.guest()
    session = client.post("/api/v1/sessions", headers=api.headers(token)).json
    check_response(app, "POST", "/api/v1/sessions", _json_response(session, 201))
    del session["replying"]
    with pytest.raises(AssertionError, match="replying"):
        check_response(app, "POST", "/api/v1/sessions", _json_response(session, 201))


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/sessions", 418),  # a status not listed
        ("GET", "/api/v1/sessions/7", 409),  # listed for other operations only
        ("GET", "/api/v1/not-an-operation", 200),  # a path the API does not have
    ],
)
def test_the_check_refuses_a_status_that_is_not_described(app, method, path, status):
    error = {"error": {"code": "x", "message": "y"}}
    with pytest.raises(AssertionError):
        check_response(app, method, path, _json_response(error, status))


def test_the_check_reads_each_event_of_a_stream(app):
    path = "/api/v1/sessions/1/retry"
    stream = 'event: delta\ndata: {"text": "Hi"}\n\n'
    check_response(app, "POST", path, Response(stream, 201, mimetype="text/event-stream"))
    wrong = 'event: delta\ndata: {"text": 5}\n\n'
    with pytest.raises(AssertionError, match="event delta"):
        check_response(app, "POST", path, Response(wrong, 201, mimetype="text/event-stream"))


# The browsable documentation.


class _PageAssets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0
        self.spec_url = None
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self._in_script = True
            if attributes.get("src"):
                self.urls.append(attributes["src"])
        elif tag == "link":
            self.urls.append(attributes["href"])
        if "data-spec-url" in attributes:
            self.spec_url = attributes["data-spec-url"]

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1


CONTENT_TYPES = {
    ".js": {"text/javascript", "application/javascript"},
    ".css": {"text/css"},
    ".png": {"image/png"},
}


def test_api_docs_is_a_page_whose_assets_all_come_from_us(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    page = _PageAssets()
    page.feed(response.get_data(as_text=True))
    assert page.inline_scripts == 0
    assert page.spec_url == "/api/v1/openapi.json"
    assert client.get(page.spec_url).json["openapi"] == "3.1.0"
    assert len(page.urls) >= 3
    for url in page.urls:
        assert re.match(r"^/(?!/)", url), f"{url} is not on our own origin"
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            assert asset.mimetype in CONTENT_TYPES[url[url.rindex(".") :]], url
            assert len(asset.get_data()) > 0, url


@pytest.mark.parametrize("name", ["index.html", "..%2F__init__.py", "swagger-ui.js.map"])
def test_api_docs_serve_only_the_assets_the_page_uses(client, name):
    with client.get(f"/api/docs/assets/{name}") as response:
        assert response.status_code == 404
