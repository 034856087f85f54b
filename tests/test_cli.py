"""The `coach` command: schema upgrade, user creation, `--version`, and `coach serve`
(whether it migrates, and for real)."""

from __future__ import annotations

import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select

from coach import cli, create_app
from coach.__main__ import DISTRIBUTION, main
from coach.coaching.reply_mark import LONGEST_REPLY_SECONDS
from coach.storage.database import database
from coach.storage.models import User


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_db_upgrade_is_idempotent(app, runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert "coaching_sessions" in inspect(database(app).engine).get_table_names()


@pytest.mark.parametrize(("auto_migrate", "tables_after"), [(False, False), (True, True)])
def test_coach_serve_migrates_only_when_auto_migrate_is_on(
    tmp_path, monkeypatch, auto_migrate, tables_after
):
    # `coach serve` sets the metrics folder for its workers: keep it to this test.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    served = []
    monkeypatch.setattr(cli, "_run_gunicorn", lambda app, host, port: served.append(app))
    app = create_app(
        {
            "SECRET_KEY": "test",
            "COACH_DATABASE_URL": f"sqlite:///{tmp_path / 'coach.db'}",
            "COACH_AUTO_MIGRATE": auto_migrate,
        }
    )
    result = app.test_cli_runner().invoke(args=["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert served == [app]
    tables = inspect(database(app).engine).get_table_names()
    assert ("coaching_sessions" in tables) is tables_after


@pytest.mark.parametrize(
    ("installed", "shown"),
    [("1.2.3", "coach 1.2.3"), (None, "coach unknown (not installed)")],
)
def test_version_is_the_installed_distributions(monkeypatch, installed, shown):
    def version(name: str) -> str:
        if name != DISTRIBUTION or installed is None:
            raise metadata.PackageNotFoundError(name)
        return installed

    monkeypatch.setattr(metadata, "version", version)
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"{shown}\n"


def test_users_create_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(
        args=["users", "create", "--email", "c@example.org", "--role", "counselor"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    with database(app).make_session() as db:
        user = db.scalar(select(User).where(User.email == "c@example.org"))
    assert user.role == "counselor"
    assert user.password_hash and "a long enough password" not in user.password_hash


@pytest.mark.parametrize(
    ("args", "password", "error"),
    [
        (["--email", "c@example.org"], "short\n", "at least"),
        (["--email", "not-an-email"], "a long enough password\n", "email"),
        (["--email", "@"], "a long enough password\n", "email"),
        (["--email", "a@b"], "a long enough password\n", "email"),
        (["--email", "two words@example.org"], "a long enough password\n", "email"),
        (["--email", "a@@example.org"], "a long enough password\n", "email"),
        (["--email", "c@example.org", "--role", "wizard"], "a long enough password\n", "wizard"),
    ],
)
def test_users_create_refuses_bad_input(runner, args, password, error):
    result = runner.invoke(args=["users", "create", *args], input=password)
    assert result.exit_code != 0
    assert error in result.output


def test_users_create_refuses_a_duplicate(runner):
    args = ["users", "create", "--email", "c@example.org"]
    assert runner.invoke(args=args, input="a long enough password\n").exit_code == 0
    again = runner.invoke(args=args, input="a long enough password\n")
    assert again.exit_code != 0
    assert "exists" in again.output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_coach_serve_starts_the_app_on_its_defaults(tmp_path):
    port = _free_port()
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("COACH_", "OPENAI_"))
    }
    environment["COACH_INSTANCE_PATH"] = str(tmp_path / "instance")
    server = subprocess.Popen(
        [sys.executable, "-m", "coach", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as response:
                    body = response.read().decode()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("coach serve did not answer in time")
                time.sleep(0.2)
        assert '"provider":"guided"' in body.replace(" ", "")
        assert (tmp_path / "instance" / "coach.db").exists()
    finally:
        server.terminate()
        server.wait(timeout=10)
        assert server.stdout is not None
        server.stdout.close()


def test_the_console_entry_point_runs_commands_in_an_app(tmp_path, monkeypatch):
    monkeypatch.setenv("COACH_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("COACH_DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "instance" / "coach.db").exists()


SERVING_SETTINGS = (
    "worker_class",
    "workers",
    "threads",
    "timeout",
    "graceful_timeout",
    "keepalive",
)


@pytest.mark.parametrize("redis_url", [None, "redis://127.0.0.1:6379/0"])
def test_coach_serve_uses_the_settings_of_the_shipped_gunicorn_conf(
    app, tmp_path, monkeypatch, redis_url
):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    if redis_url:
        monkeypatch.setenv("COACH_REDIS_URL", redis_url)
    else:
        monkeypatch.delenv("COACH_REDIS_URL", raising=False)
    shipped = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))
    embedded = cli.EmbeddedServer(app, "127.0.0.1:8123").cfg
    for name in SERVING_SETTINGS:
        assert embedded.settings[name].get() == shipped[name], name
    assert shipped["worker_class"] == "gthread"
    # Room for 64 streams and more; several processes only when Redis shares the limits.
    assert shipped["threads"] >= 128
    assert shipped["workers"] == (2 if redis_url else 1)
    # A restart lets the longest reply finish.
    assert shipped["graceful_timeout"] > LONGEST_REPLY_SECONDS
    assert shipped["logconfig_dict"]["formatters"] == embedded.logconfig_dict["formatters"]
