"""The coach as it runs in production, for tests: gunicorn started with the
shipped `gunicorn.conf.py` in a process of its own, and small HTTP helpers that
talk to it over real sockets."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach import create_app
from coach.storage.database import database, upgrade_schema

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_CONFIG = ROOT / "gunicorn.conf.py"
SECRET_KEY = "served-test-secret-key"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def migrate(database_url: str) -> None:
    """Bring a database's schema up to date, as `coach db upgrade` does before a deploy."""
    app = create_app({"SECRET_KEY": SECRET_KEY, "COACH_DATABASE_URL": database_url})
    upgrade_schema(app)
    database(app).engine.dispose()


@dataclass
class Served:
    """One gunicorn master (and its workers) serving the coach on a local port."""

    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def connection(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> tuple[int, dict[str, str], str]:
        connection = self.connection(timeout)
        try:
            sent = dict(headers or {})
            data = None
            if body is not None:
                data = json.dumps(body)
                sent.setdefault("Content-Type", "application/json")
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            text = response.read().decode()
            return response.status, dict(response.getheaders()), text
        finally:
            connection.close()

    def stop(self) -> None:
        # SIGQUIT: gunicorn's quick shutdown; a test has no reply left to finish.
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            # A gthread worker can hang for good in its quit handler, which shuts
            # its thread pool down while the signal may have come in the middle of
            # a `submit` holding the pool's lock (CPython issue 121649); the master
            # would kill it only after the graceful timeout (minutes). The whole
            # process group goes, so that no worker outlives the test.
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def serve(folder: Path, settings: dict[str, str], *extra_args: str) -> Served:
    """Gunicorn with the shipped configuration, the given COACH_* settings and
    nothing of this process's own COACH_*, OPENAI_* or metrics settings."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COACH_", "OPENAI_", "PROMETHEUS_"))
    }
    environment |= {
        # The checkout under test, wherever `coach` is installed from.
        "PYTHONPATH": str(ROOT),
        "COACH_INSTANCE_PATH": str(folder / "instance"),
        "COACH_SECRET_KEY": SECRET_KEY,
        "COACH_AUTO_MIGRATE": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
        # Gunicorn's control socket goes here, away from another server's.
        "XDG_RUNTIME_DIR": str(folder),
    } | settings
    log_path = folder / "gunicorn.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(SHIPPED_CONFIG),
                "--bind",
                f"127.0.0.1:{port}",
                *extra_args,
                "coach:create_app()",
            ],
            env=environment,
            cwd=folder,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # A process group of its own, for `Served.stop` to end as a whole.
            start_new_session=True,
        )
    served = Served(port, process, log_path)
    deadline = time.monotonic() + 60
    while True:
        try:
            if served.request("GET", "/livez", timeout=2)[0] == 200:
                return served
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            served.stop()
            raise AssertionError(f"gunicorn did not start:\n{served.log}")
        time.sleep(0.2)


@dataclass
class Browser:
    """A browser's cookie jar, one cookie (Flask's session) deep."""

    cookie: str = ""
    csrf: str = ""

    def request(
        self, served: Served, method: str, path: str, body: Any = None, form: str | None = None
    ) -> tuple[int, dict[str, str], str]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        connection = served.connection()
        try:
            data: str | None = None
            if form is not None:
                data = form
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            elif body is not None:
                data = json.dumps(body)
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
            answer = dict(response.getheaders())
        finally:
            connection.close()
        set_cookie = answer.get("Set-Cookie", "")
        if set_cookie.startswith("session="):
            self.cookie = set_cookie.split(";", 1)[0]
        found = CSRF_META.search(text)
        if found:
            self.csrf = found.group(1)
        return response.status, answer, text


def serve_with_model(folder: Path, model_url: str, settings: dict[str, str]) -> Served:
    """The app under gunicorn on a new SQLite file in `folder`, with the `openai`
    provider pointed at the fake model at `model_url`; `settings` add to that."""
    database_url = f"sqlite:///{folder / 'coach.db'}"
    migrate(database_url)
    return serve(
        folder,
        {
            "COACH_DATABASE_URL": database_url,
            "OPENAI_API_KEY": "test-key",
            "OPENAI_BASE_URL": model_url,
            "COACH_MODEL": "fake-model",
            **settings,
        },
    )
