"""/api/docs in a real Chromium: Swagger UI renders the generated document under the
app's strict Content Security Policy (the `page` fixture fails on any CSP or
script error), and nothing is fetched from anywhere but the app itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.actions import serve_app
from tests.conftest import base_config, migrated_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db_dir = tmp_path_factory.mktemp("api-docs")
    yield from serve_app(migrated_app(base_config(f"sqlite:///{db_dir}/coach.db")))


def test_swagger_ui_shows_every_operation_from_our_own_origin(page: Any, base_url: str) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/api/docs")
    page.wait_for_selector(".opblock")
    document = page.request.get("/api/v1/openapi.json").json()
    operations = sum(len(item) for item in document["paths"].values())
    assert page.locator(".opblock").count() == operations
    page.locator(".opblock-summary", has_text="/api/v1/sessions/{session_id}/messages").click()
    page.wait_for_selector(".opblock-body .responses-table")
    assert page.get_by_text("reply_in_progress").first.is_visible()
    assert requested
    assert all(url.startswith(base_url + "/") for url in requested), requested
