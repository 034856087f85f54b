"""Health check, the OpenAPI description, and the pages of the browser UI."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from sqlalchemy.exc import OperationalError

from coach.web.api import sessions as sessions_api


def test_health_reports_db_and_provider(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "db": "ok", "provider": "guided"}


def _spec_path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule)


def test_openapi_describes_every_api_route(app, client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") and rule.rule != "/healthz":
            continue
        path = _spec_path(rule.rule)
        assert path in spec["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], (method, path)


def test_openapi_is_a_valid_document(client):
    validate(client.get("/api/v1/openapi.json").json)


def test_landing_page_says_what_the_coach_is_and_offers_a_start(client):
    page = client.get("/").get_data(as_text=True)
    assert "Guided mode: no AI model is configured" in page
    assert 'action="/start"' in page


@pytest.mark.parametrize("path", ["/sessions", "/chat/1"])
def test_pages_that_need_a_seeker_send_strangers_home(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")


def test_unknown_paths_are_json_404s(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_wrong_method_is_a_json_405(client):
    response = client.put("/api/v1/sessions")
    assert response.status_code == 405
    assert "error" in response.json


def test_a_browser_gets_an_error_page_not_json(app):
    browser = app.test_client()
    response = browser.get("/no-such-page", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Not Found" in response.get_data(as_text=True)
    api_response = browser.get("/api/v1/nothing", headers={"Accept": "text/html"})
    assert api_response.is_json


def test_a_busy_database_is_a_503_not_a_crash(client, api, monkeypatch):
    def locked(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    token = api.guest()
    monkeypatch.setattr(sessions_api, "list_sessions", locked)
    response = client.get("/api/v1/sessions", headers=api.headers(token))
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_busy"
