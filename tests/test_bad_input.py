"""Bad input is a clear 4xx, never a 500: text no database can store (a NUL, a lone
surrogate) in any string of any body, JSON nested too deep to parse, a body that is
not a JSON object, and a body past the size limit whether or not it says its length.
Text is checked on SQLite and on PostgreSQL, which refuse different things."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from coach.errors import InvalidInput
from coach.storage.database import database
from coach.storage.models import CoachingSession, Message, User
from coach.web.auth import create_user
from tests.browser.actions import serve_app
from tests.conftest import ApiActions, AppFactory
from tests.openapi_check import check_response

LONE_SURROGATE = "a\ud800b"
NUL = "a\x00b"
UNSTORABLE = [pytest.param(LONE_SURROGATE, id="lone-surrogate"), pytest.param(NUL, id="nul")]
EMAIL = "counsel@example.org"
PASSWORD = "a long enough password"


def _json(value: Any) -> str:
    """JSON as a client sends it: a lone surrogate escaped as `\\ud800`, as JSON allows."""
    return json.dumps(value)


def _post_raw(api: ApiActions, path: str, token: str | None, data: str | bytes, **kw: Any) -> Any:
    headers = api.headers(token) if token else {}
    return api.client.post(path, headers=headers, data=data, content_type="application/json", **kw)


def _count(app: Flask, model: type[Any]) -> int:
    with database(app).make_session() as db:
        count: int = db.scalar(select(func.count()).select_from(model))
    return count


def _assert_refused(response: Any, code: str = "invalid_characters") -> None:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["error"]["code"] == code


# Text no database can store


@pytest.mark.parametrize("text", UNSTORABLE)
def test_a_message_with_unstorable_text_is_refused_and_not_stored(storage_app, storage_api, text):
    token = storage_api.guest()
    session_id = storage_api.new_session(token)
    path = f"/api/v1/sessions/{session_id}/messages"
    _assert_refused(_post_raw(storage_api, path, token, _json({"content": text})))
    assert _count(storage_app, Message) == 0
    # The same words without the bad character go through on the same database.
    assert storage_api.send(token, session_id, "ab").status_code == 201


def test_utf8_encoded_surrogates_in_a_body_are_refused_too(storage_app, storage_api):
    token = storage_api.guest()
    session_id = storage_api.new_session(token)
    # The surrogate's own UTF-8 bytes, which only a lax decoder turns into a character.
    body = b'{"content": "a\xed\xa0\x80b"}'
    path = f"/api/v1/sessions/{session_id}/messages"
    _assert_refused(_post_raw(storage_api, path, token, body))
    _assert_refused(_post_raw(storage_api, path, token, b'{"content": "a\xffb"}'))
    assert _count(storage_app, Message) == 0


@pytest.mark.parametrize("text", UNSTORABLE)
def test_a_new_sessions_title_with_unstorable_text_is_refused(storage_app, storage_api, text):
    token = storage_api.guest()
    _assert_refused(_post_raw(storage_api, "/api/v1/sessions", token, _json({"title": text})))
    assert _count(storage_app, CoachingSession) == 0


@pytest.mark.parametrize("text", UNSTORABLE)
def test_a_changed_title_with_unstorable_text_is_refused(storage_api, text):
    token = storage_api.guest()
    session_id = storage_api.new_session(token)
    before = storage_api.session(token, session_id)["title"]
    response = storage_api.client.patch(
        f"/api/v1/sessions/{session_id}",
        headers=storage_api.headers(token),
        data=_json({"title": text}),
        content_type="application/json",
    )
    _assert_refused(response)
    assert storage_api.session(token, session_id)["title"] == before


@pytest.fixture
def counselor(storage_app: Flask) -> None:
    with database(storage_app).make_session() as db:
        create_user(db, EMAIL, PASSWORD, "counselor")


@pytest.mark.parametrize("text", UNSTORABLE)
@pytest.mark.parametrize("field", ["email", "password"])
def test_a_login_with_unstorable_text_is_refused(storage_api, counselor, field, text):
    credentials = {"email": EMAIL, "password": PASSWORD}
    credentials[field] = credentials[field] + text
    _assert_refused(_post_raw(storage_api, "/api/v1/auth/login", None, _json(credentials)))
    # Not a verdict on the account: the right credentials still work.
    login = storage_api.client.post(
        "/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}
    )
    assert login.status_code == 200


@pytest.mark.parametrize("text", UNSTORABLE)
@pytest.mark.parametrize("field", ["email", "password"])
def test_a_user_with_unstorable_text_is_not_created(storage_app, field, text):
    given = {"email": "new@example.org", "password": PASSWORD}
    given[field] = text + given[field]
    with database(storage_app).make_session() as db:
        with pytest.raises(InvalidInput) as refused:
            create_user(db, given["email"], given["password"], "counselor")
        assert refused.value.code == "invalid_characters"
    assert _count(storage_app, User) == 0


def test_the_command_line_refuses_an_email_it_could_not_decode(storage_app):
    # Bytes that are not UTF-8 on the command line reach Python as lone surrogates.
    email = "caf\udce9@example.org"
    result = storage_app.test_cli_runner().invoke(
        args=["users", "create", "--email", email], input=f"{PASSWORD}\n"
    )
    assert result.exit_code != 0
    assert "lone surrogate" in result.output
    assert _count(storage_app, User) == 0


def test_the_command_line_refuses_a_password_with_a_nul(storage_app):
    result = storage_app.test_cli_runner().invoke(
        args=["users", "create", "--email", "new@example.org"], input=f"{NUL}{PASSWORD}\n"
    )
    assert result.exit_code != 0
    assert "NUL" in result.output
    assert _count(storage_app, User) == 0


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"title": "fine", "note": LONE_SURROGATE}, id="a-field-no-shape-has"),
        pytest.param({"title": "fine", LONE_SURROGATE: "x"}, id="a-fields-name"),
        pytest.param({"title": ["fine", {"deep": [NUL]}]}, id="nested"),
    ],
)
def test_every_string_of_a_body_is_checked(storage_app, storage_api, body):
    token = storage_api.guest()
    response = _post_raw(storage_api, "/api/v1/sessions", token, _json(body))
    _assert_refused(response)
    # The message names the field, never the text (it reaches logs and screens).
    assert "\ud800" not in response.json["error"]["message"]
    assert "\x00" not in response.json["error"]["message"]
    assert _count(storage_app, CoachingSession) == 0


def test_a_query_parameter_with_a_nul_is_refused(api):
    token = api.guest()
    response = api.client.get("/api/v1/sessions?page=1%00", headers=api.headers(token))
    _assert_refused(response)


# Bodies that are not a JSON object


DEEP = "[" * 30_000


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(DEEP, id="nested-30000-deep"),
        pytest.param('{"title": ' + DEEP, id="nested-in-an-object"),
        pytest.param("{oops", id="malformed"),
        pytest.param('{"title": "x"', id="cut-short"),
        pytest.param("[]", id="array"),
        pytest.param('"a title"', id="string"),
        pytest.param("null", id="null"),
        pytest.param("42", id="number"),
    ],
)
def test_a_body_that_is_not_a_json_object_creates_no_session(app, api, body):
    token = api.guest()
    api.new_session(token)
    response = _post_raw(api, "/api/v1/sessions", token, body)
    _assert_refused(response, "invalid_json")
    listed = api.client.get("/api/v1/sessions", headers=api.headers(token)).json
    assert listed["total"] == 1
    assert _count(app, CoachingSession) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/sessions/{id}/messages"),
        ("PATCH", "/api/v1/sessions/{id}"),
    ],
)
def test_json_nested_too_deep_is_a_400_everywhere(api, method, path):
    token = api.guest()
    session_id = api.new_session(token)
    response = api.client.open(
        path.format(id=session_id),
        method=method,
        headers=api.headers(token),
        data=DEEP,
        content_type="application/json",
    )
    _assert_refused(response, "invalid_json")
    assert api.session(token, session_id)["messages"] == []


# A body past the size limit, without Content-Length

LIMIT = 1024


@pytest.fixture
def served(app_factory: AppFactory) -> Iterator[tuple[Flask, str]]:
    """A small body limit, served over real HTTP: only a server sends chunked bodies."""
    app = app_factory(MAX_CONTENT_LENGTH=LIMIT)
    for url in serve_app(app):
        yield app, url


def _post_chunked(app: Flask, url: str, path: str, token: str, body: bytes) -> Response:
    """POST `body` in chunks with no Content-Length; the answer checked against the
    OpenAPI document, as the test client's are."""
    connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=10)
    chunks = (body[i : i + 256] for i in range(0, len(body), 256))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        connection.request("POST", path, body=chunks, headers=headers, encode_chunked=True)
        answer = connection.getresponse()
        response = Response(answer.read(), status=answer.status, headers=list(answer.getheaders()))
    finally:
        connection.close()
    check_response(app, "POST", path, response)
    return response


def _body_of_length(length: int, **fields: Any) -> bytes:
    body = json.dumps(fields).encode()
    return body + b" " * (length - len(body))  # whitespace after JSON is still JSON


def test_a_chunked_body_past_the_limit_is_a_413(served):
    app, url = served
    token = app.test_client().post("/api/v1/auth/guest").json["token"]
    too_long = _body_of_length(LIMIT + 1, title="A title")
    response = _post_chunked(app, url, "/api/v1/sessions", token, too_long)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"
    assert _count(app, CoachingSession) == 0


def test_a_chunked_message_past_the_limit_is_a_413_and_not_stored(served):
    app, url = served
    client = app.test_client()
    token = client.post("/api/v1/auth/guest").json["token"]
    session_id = client.post("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}).json[
        "id"
    ]
    body = json.dumps({"content": "x" * 10 * LIMIT}).encode()
    response = _post_chunked(app, url, f"/api/v1/sessions/{session_id}/messages", token, body)
    assert response.status_code == 413
    assert _count(app, Message) == 0


def test_a_chunked_body_that_fills_the_limit_exactly_is_accepted(served):
    app, url = served
    token = app.test_client().post("/api/v1/auth/guest").json["token"]
    response = _post_chunked(
        app, url, "/api/v1/sessions", token, _body_of_length(LIMIT, title="A title")
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["title"] == "A title"


def test_an_id_no_database_can_hold_is_a_404_on_every_route_and_method(app: Flask, api):
    """Werkzeug used to skip a route whose id was too big and answer some methods with
    405, naming methods the path did not have."""
    from coach.web.schemas import IdConverter

    token = api.guest()
    tried = 0
    for rule in app.url_map.iter_rules():
        ids = [name for name, c in rule._converters.items() if isinstance(c, IdConverter)]
        if not ids:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<[^>]*:{name}>", "99999999999" if name in ids else "1", path)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = app.test_client().open(path, method=method, headers=api.headers(token))
            assert response.status_code == 404, (method, path, response.status_code)
            tried += 1
    assert tried > 30
