"""What the browser tests do, as one-liners, and how they serve the app."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPLY_TIMEOUT_MS = 15_000
ASSISTANT_DONE = "#transcript article.message-assistant[data-status='complete']"


def serve_app(app: Flask) -> Iterator[str]:
    """Serve `app` with werkzeug on a free local port for as long as the caller needs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def start_chat(page: Any) -> None:
    """Start as a guest from the landing page and wait for the chat."""
    page.goto("/")
    page.get_by_role("button", name="Start as a guest").click()
    page.wait_for_url(re.compile(r"/chat/\d+$"))
    page.wait_for_selector("#composer")


def send_and_wait(page: Any, text: str) -> None:
    """Type a message, press Enter, and wait for the finished reply."""
    # Enter is ignored while a reply is being written: wait until the page takes a message.
    page.locator("#send-button:enabled").wait_for()
    before = page.locator(ASSISTANT_DONE).count()
    page.locator("#message-input").fill(text)
    page.locator("#message-input").press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll(" + repr(ASSISTANT_DONE) + ").length > n",
        arg=before,
        timeout=REPLY_TIMEOUT_MS,
    )


def pick_and_wait(page: Any, label: str) -> None:
    """Click a quick reply under the last coach message and wait for the finished reply."""
    page.locator("#send-button:enabled").wait_for()
    before = page.locator(ASSISTANT_DONE).count()
    page.locator(ASSISTANT_DONE).last.get_by_role("button", name=label).click()
    page.wait_for_function(
        "n => document.querySelectorAll(" + repr(ASSISTANT_DONE) + ").length > n",
        arg=before,
        timeout=REPLY_TIMEOUT_MS,
    )
