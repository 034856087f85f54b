"""Configuration: precedence, the secret key rule, the provider choice."""

from __future__ import annotations

import stat

import pytest

from coach import create_app
from coach.errors import ConfigurationError


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("COACH_INSTANCE_PATH", str(tmp_path / "instance"))
    for name in ("COACH_SECRET_KEY", "OPENAI_API_KEY", "COACH_PROVIDER", "COACH_ENV"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "instance"


def test_development_makes_a_secret_key_once_and_keeps_it(instance):
    first = create_app()
    second = create_app()
    key_file = instance / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text()
    assert len(first.config["SECRET_KEY"]) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.config["SESSION_COOKIE_SECURE"] is False


def test_the_default_database_is_sqlite_in_the_instance_folder(instance):
    app = create_app()
    assert app.config["COACH_DATABASE_URL"] == f"sqlite:///{instance / 'coach.storage.database'}"
    assert (instance / "coach.storage.database").exists()


def test_production_requires_a_secret_key(instance, monkeypatch):
    monkeypatch.setenv("COACH_ENV", "production")
    with pytest.raises(ConfigurationError, match="COACH_SECRET_KEY"):
        create_app()
    assert not (instance / "secret_key").exists()


def test_production_with_a_key_uses_it_and_secure_cookies(instance, monkeypatch):
    monkeypatch.setenv("COACH_ENV", "production")
    monkeypatch.setenv("COACH_SECRET_KEY", "from-the-environment")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("environment", "provider"),
    [
        ({}, "guided"),
        ({"OPENAI_API_KEY": "sk-test"}, "openai"),
        ({"OPENAI_API_KEY": "sk-test", "COACH_PROVIDER": "guided"}, "guided"),
    ],
)
def test_the_provider_follows_the_key(instance, monkeypatch, environment, provider):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    assert app.config["COACH_PROVIDER"] == provider
    assert app.test_client().get("/healthz").json["provider"] == provider


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"COACH_PROVIDER": "openai"}, "OPENAI_API_KEY"),
        ({"COACH_PROVIDER": "magic"}, "COACH_PROVIDER"),
        ({"COACH_MAX_MESSAGE_CHARS": "lots"}, "COACH_MAX_MESSAGE_CHARS"),
    ],
)
def test_bad_settings_are_clear_errors(instance, monkeypatch, environment, message):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message):
        create_app()


def test_test_overrides_win_over_the_environment(instance, monkeypatch):
    monkeypatch.setenv("COACH_MAX_MESSAGE_CHARS", "100")
    assert create_app().config["COACH_MAX_MESSAGE_CHARS"] == 100
    app = create_app({"COACH_MAX_MESSAGE_CHARS": 50})
    assert app.config["COACH_MAX_MESSAGE_CHARS"] == 50


def test_the_instance_file_is_read_and_the_environment_wins_over_it(instance, monkeypatch):
    instance.mkdir(parents=True)
    (instance / "config.py").write_text("COACH_MODEL = 'from-file'\nCOACH_RECENT_MESSAGES = 4\n")
    monkeypatch.setenv("COACH_MODEL", "from-environment")
    app = create_app()
    assert app.config["COACH_RECENT_MESSAGES"] == 4
    assert app.config["COACH_MODEL"] == "from-environment"
