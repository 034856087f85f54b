"""Browser test fixtures: a real Chromium (Debian's, since playwright's own browser
download does not work here) driving the app served on a real local port.

Each test module provides `base_url`, usually with `actions.serve_app`. Without Chromium
the tests skip, except on CI where that is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.actions import CHROMIUM, CHROMIUM_ARGS, REPLY_TIMEOUT_MS
from tests.fake_model import FakeModel


def _unavailable(reason: str) -> None:
    """Skip when the browser is missing, but never silently on CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, so this is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Debian Chromium for the module."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh context (so a fresh guest) whose dialogs are recorded, not shown."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(REPLY_TIMEOUT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))

    def record_console(msg: Any) -> None:
        # A CSP violation (an inline script or style slipped in) is only a console error.
        if msg.type == "error" and ("Content Security Policy" in msg.text or "Refused" in msg.text):
            errors.append(msg.text)

    tab.on("console", record_console)
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"JavaScript or CSP errors on the page: {errors}"


@pytest.fixture
def dialogs(page: Any) -> list[str]:
    """Messages of every alert/confirm/prompt the page opens (each is dismissed)."""
    seen: list[str] = []

    def record(dialog: Any) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return seen


@pytest.fixture(scope="module")
def fake_model() -> Iterator[FakeModel]:
    """One fake model for a module's served app (browser tests share the app)."""
    with FakeModel() as server:
        yield server
