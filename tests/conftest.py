"""Shared fixtures: an app on a fresh SQLite file in guided mode, its client, an
`api` helper that performs the usual actions of a seeker over HTTP, and
`storage_app`, the same app on SQLite and on PostgreSQL. Every response a test
client sees from the API is checked against the generated OpenAPI document.

PostgreSQL runs when COACH_TEST_POSTGRES_URL names a server (`.ci/run` sets it);
each test gets a database of its own, dropped afterwards."""

from __future__ import annotations

import functools
import os
import re
import shutil
import uuid
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from coach import create_app
from coach.coaching.background import background
from coach.quality.cases import load_conversations
from coach.quality.drive import SuiteRun, run_suite
from coach.resources import resource_dir
from coach.storage import database as database_module
from coach.storage.database import database, upgrade_schema
from coach.web import auth
from tests.fake_model import FakeModel
from tests.openapi_check import CheckedClient, parse_events

# Each app compiles its safety and coaching rules: some 1,200 patterns, more than `re`
# keeps (512), so that every app the tests build compiled all of them again (0.25 s an
# app, most of the suite's time). With room for them, the second app on finds each
# pattern compiled; a compiled pattern is immutable, so the apps are built as before.
re._MAXCACHE = max(re._MAXCACHE, 20_000)  # type: ignore[attr-defined]

AppFactory = Callable[..., Flask]
API_KEY = "test-key"


class EngineTracker:
    """Every engine the app code makes, so that each test ends with its connections
    closed. Python 3.13 warns about a SQLite connection that is garbage-collected
    unclosed, and the warning lands in whichever test is running then."""

    def __init__(self) -> None:
        # Alive as long as their app is (a module's served app outlives a test).
        self.live: weakref.WeakSet[Engine] = weakref.WeakSet()
        # Made during the current test: held until it ends, so that an app dropped
        # mid-test is not collected with its connections still open.
        self.made: list[Engine] = []

    def make(self, *args: Any, **kwargs: Any) -> Engine:
        engine = CREATE_ENGINE(*args, **kwargs)
        self.live.add(engine)
        self.made.append(engine)
        return engine

    def close_all(self) -> None:
        for engine in [*self.live, *self.made]:
            engine.dispose()  # an engine stays usable: it connects again when asked
        self.made.clear()


CREATE_ENGINE = database_module.create_engine
ENGINES = EngineTracker()
database_module.create_engine = ENGINES.make  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def engines_closed_after_each_test() -> Iterator[None]:
    yield
    ENGINES.close_all()


# Werkzeug's scrypt at its default cost takes a tenth of a second a hash, on purpose;
# the tests that make accounts and log in spent most of their time hashing. They hash
# with the same scrypt at a lower cost (each hash names its cost, and checking reads
# it from there), except a test marked `full_password_cost`, which measures the cost.
QUICK_SCRYPT = "scrypt:1024:8:1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "full_password_cost: passwords hashed at Werkzeug's default cost"
    )


@pytest.fixture(autouse=True)
def quick_password_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("full_password_cost") is None:
        quick = functools.partial(generate_password_hash, method=QUICK_SCRYPT)
        monkeypatch.setattr(auth, "generate_password_hash", quick)


@pytest.fixture(autouse=True)
def responses_match_the_openapi_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every app's test client checks each API response against the app's own
    generated OpenAPI document (`tests/openapi_check.py`)."""
    monkeypatch.setattr(Flask, "test_client_class", CheckedClient)


def base_config(database_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "COACH_DATABASE_URL": database_url,
        "COACH_PROVIDER": "guided",
        "RATELIMIT_ENABLED": False,
    }


def migrated_app(config: dict[str, Any]) -> Flask:
    """An app built by hand (outside `app_factory`) on a database it brings up to date."""
    app = create_app(config)
    upgrade_schema(app)
    return app


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file brought up to date by the migrations, once for the whole run."""
    path = tmp_path_factory.mktemp("migrated") / "coach.db"
    app = create_app(base_config(f"sqlite:///{path}"))
    upgrade_schema(app)  # closes its connections: the write-ahead log is folded in
    assert not Path(f"{path}-wal").exists(), "the migrated file is not whole on its own"
    return path


@pytest.fixture
def app_factory(tmp_path: Path, migrated_sqlite_file: Path) -> Iterator[AppFactory]:
    """Build apps on this test's SQLite file with extra settings; all are closed after.

    Each database gets its schema once, before the first app built on it (apps never
    migrate by themselves). A SQLite file that does not exist yet starts as a copy of
    `migrated_sqlite_file`: the same schema, without running every migration for
    every test."""
    made: list[Flask] = []
    migrated: set[str] = set()

    def make(**overrides: Any) -> Flask:
        config = base_config(f"sqlite:///{tmp_path / 'coach.db'}") | overrides
        url = config["COACH_DATABASE_URL"]
        new_file = Path(url.removeprefix("sqlite:///"))
        if url.startswith("sqlite:///") and url not in migrated and not new_file.exists():
            new_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(migrated_sqlite_file, new_file)
            migrated.add(url)
        app = create_app(config)
        made.append(app)
        if url not in migrated:
            upgrade_schema(app)
            migrated.add(url)
        return app

    yield make
    for app in made:
        background(app).wait_idle()
        database(app).engine.dispose()


@pytest.fixture
def app(app_factory: AppFactory) -> Flask:
    return app_factory()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class ApiActions:
    """What a seeker's client does, as one-liners for tests."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def guest(self) -> str:
        response = self.client.post("/api/v1/auth/guest")
        assert response.status_code == 201, response.json
        token: str = response.json["token"]  # type: ignore[index]
        return token

    @staticmethod
    def headers(token: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", **extra}

    def new_session(self, token: str) -> int:
        response = self.client.post("/api/v1/sessions", headers=self.headers(token))
        assert response.status_code == 201, response.json
        session_id: int = response.json["id"]  # type: ignore[index]
        return session_id

    def send(self, token: str, session_id: int, content: Any) -> Any:
        return self.client.post(
            f"/api/v1/sessions/{session_id}/messages",
            headers=self.headers(token),
            json={"content": content},
        )

    def send_streaming(self, token: str, session_id: int, content: str) -> list[tuple[str, Any]]:
        response = self.client.post(
            f"/api/v1/sessions/{session_id}/messages",
            headers=self.headers(token, Accept="text/event-stream"),
            json={"content": content},
        )
        assert response.mimetype == "text/event-stream", response.data
        return parse_events(response.get_data(as_text=True))

    def session(self, token: str, session_id: int) -> Any:
        response = self.client.get(f"/api/v1/sessions/{session_id}", headers=self.headers(token))
        assert response.status_code == 200, response.json
        return response.json


@pytest.fixture
def api(client: FlaskClient) -> ApiActions:
    return ApiActions(client)


POSTGRES_URL = os.environ.get("COACH_TEST_POSTGRES_URL")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not POSTGRES_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("COACH_TEST_POSTGRES_URL must be set in CI")
        pytest.skip("COACH_TEST_POSTGRES_URL is not set; PostgreSQL storage tests skipped")
    server = make_url(POSTGRES_URL)
    name = f"coach_test_{uuid.uuid4().hex[:12]}"
    admin = server.set(drivername="postgresql", database="postgres")
    admin_dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def storage_app(request: pytest.FixtureRequest, app_factory: AppFactory) -> Flask:
    if request.param == "sqlite":
        return app_factory()
    return app_factory(COACH_DATABASE_URL=request.getfixturevalue("postgres_url"))


@pytest.fixture
def storage_api(storage_app: Flask) -> ApiActions:
    return ApiActions(storage_app.test_client())


@pytest.fixture
def fake_model() -> Iterator[FakeModel]:
    """A running fake model server; a request it had no script for fails the test."""
    with FakeModel() as server:
        yield server
    assert server.unscripted == 0, "the fake model got requests that no test had scripted"


def openai_settings(fake_model: FakeModel, **overrides: Any) -> dict[str, Any]:
    """Settings that point the `openai` provider at the fake model over real HTTP."""
    settings: dict[str, Any] = {
        "COACH_PROVIDER": "openai",
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": fake_model.url,
        "COACH_MODEL": "fake-model",
        "COACH_MODEL_TIMEOUT": 5.0,
        "COACH_MODEL_ATTEMPTS": 3,
        # Most tests of the openai path script one record reading after every turn
        # (the fake answers in order); the default, a reading once a stage ends, is
        # tested where it is asked for (tests/test_record_refinement.py).
        "COACH_RECORD_READING": "every_turn",
    }
    return settings | overrides


def make_openai_app(app_factory: AppFactory, fake_model: FakeModel, **overrides: Any) -> Flask:
    """An app whose `openai` provider talks to the fake model over real HTTP."""
    return app_factory(**openai_settings(fake_model, **overrides))


@pytest.fixture(scope="session")
def whole_eval_run() -> SuiteRun:
    """The conversation-quality suite, every conversation run offline (on its recorded
    replies) as `coach eval` runs it: once, for the tests that read all of it."""
    return run_suite(create_app, load_conversations(resource_dir("evals") / "conversations"))
