"""Configuration: precedence, the secret key rule, the provider choice, every value
checked at start-up whatever its source, and the README's table of settings."""

from __future__ import annotations

import importlib.util
import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import inspect

from coach import create_app
from coach.config import SETTINGS
from coach.errors import ConfigurationError
from coach.storage.database import database

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("COACH_INSTANCE_PATH", str(tmp_path / "instance"))
    for setting in SETTINGS:
        if setting.name != "COACH_INSTANCE_PATH":
            monkeypatch.delenv(setting.name, raising=False)
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
    assert app.config["COACH_DATABASE_URL"] == f"sqlite:///{instance / 'coach.db'}"


def test_building_an_app_leaves_an_empty_database_unmigrated(instance):
    app = create_app({"COACH_AUTO_MIGRATE": True})
    assert inspect(database(app).engine).get_table_names() == []


def test_a_relative_instance_path_is_taken_from_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COACH_INSTANCE_PATH", "here")
    app = create_app({"SECRET_KEY": "test"})
    assert app.instance_path == str(tmp_path / "here")
    assert app.config["COACH_INSTANCE_PATH"] == str(tmp_path / "here")


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


BAD_ENVIRONMENT = [
    ("COACH_PROVIDER", "openai", "OPENAI_API_KEY"),
    ("COACH_PROVIDER", "magic", "one of guided, openai"),
    ("COACH_ENV", "staging", "one of development, production"),
    ("COACH_AUTO_MIGRATE", "maybe", "true or false"),
    ("COACH_MODEL_TIMEOUT", "soon", "a number"),
    ("COACH_MODEL_TIMEOUT", "-1", "above 0"),
    ("COACH_MODEL_TIMEOUT", "nan", "above 0"),
    ("COACH_MODEL_ATTEMPTS", "0", "at least 1"),
    ("COACH_MODEL_ATTEMPTS", "2.5", "whole number"),
    ("COACH_MAX_MESSAGE_CHARS", "lots", "whole number"),
    ("COACH_RECENT_MESSAGES", "0", "at least 1"),
    ("COACH_SUMMARY_MAX_CHARS", "-5", "at least 1"),
    ("COACH_PROXY_HOPS", "-1", "at least 0"),
    ("COACH_RATE_LIMIT", "2 per fortnight", "rate limit"),
    ("COACH_RATE_LIMIT", "0 per minute", "at least 1"),
    # Every limit, not only the messages': a limit Flask-Limiter cannot read would
    # otherwise be no limit at all.
    ("COACH_GUEST_LIMIT", "20 an hour", "rate limit"),
    ("COACH_LOGIN_LIMIT", "ten per minute", "rate limit"),
    ("COACH_SESSION_LIMIT", "0 per hour", "at least 1"),
    ("COACH_PLAN_LIMIT", "per hour", "rate limit"),
    ("COACH_LOG_FORMAT", "xml", "one of text, json"),
    ("COACH_LOG_LEVEL", "LOUD", "one of DEBUG"),
    ("COACH_SSE_KEEPALIVE_SECONDS", "0", "above 0"),
    ("COACH_REDIS_URL", "localhost:6379", "Redis URL"),
    ("OPENAI_BASE_URL", "127.0.0.1:11434/v1", "http"),
    ("COACH_DATABASE_URL", "not a url", "SQLAlchemy URL"),
    ("COACH_PROMPTS_DIR", "/nowhere/prompts", "existing folder"),
]


@pytest.mark.parametrize(("name", "raw", "reason"), BAD_ENVIRONMENT)
def test_a_bad_environment_value_stops_the_app_naming_the_variable(
    instance, monkeypatch, name, raw, reason
):
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigurationError) as refused:
        create_app()
    assert refused.value.message.startswith(name)
    assert reason in refused.value.message


@pytest.mark.parametrize(
    ("name", "raw", "module", "extra"),
    [
        ("COACH_REDIS_URL", "redis://cache:6379/0", "redis", "redis"),
        ("COACH_DATABASE_URL", "postgresql+psycopg://db/coach", "psycopg", "postgres"),
    ],
)
def test_a_setting_whose_driver_is_missing_says_which_extra_to_install(
    instance, monkeypatch, name, raw, module, extra
):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda wanted: None if wanted == module else find_spec(wanted)
    )
    monkeypatch.setenv(name, raw)
    with pytest.raises(ConfigurationError) as refused:
        create_app()
    assert refused.value.message.startswith(name)
    assert f"pip install 'second-interview-coach[{extra}]'" in refused.value.message


BAD_VALUES = [
    ("COACH_MODEL_ATTEMPTS", 0),
    ("COACH_MODEL_ATTEMPTS", True),
    ("COACH_AUTO_MIGRATE", "maybe"),
    ("COACH_RATE_LIMIT", "2 per fortnight"),
    ("COACH_MODEL_TIMEOUT", -1.0),
    ("COACH_MAX_MESSAGE_CHARS", None),
]


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_a_bad_test_override_is_refused_too(instance, name, value):
    with pytest.raises(ConfigurationError, match=f"^{name}: "):
        create_app({name: value})


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_a_bad_value_in_the_instance_file_is_refused_too(instance, name, value):
    instance.mkdir(parents=True)
    (instance / "config.py").write_text(f"{name} = {value!r}\n")
    with pytest.raises(ConfigurationError, match=f"^{name}: "):
        create_app()


def test_a_refused_secret_is_not_shown(instance, monkeypatch):
    monkeypatch.setenv("COACH_REDIS_URL", "http://user:hunter2@cache:6379")
    with pytest.raises(ConfigurationError) as refused:
        create_app()
    assert "COACH_REDIS_URL" in refused.value.message
    assert "hunter2" not in refused.value.message


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("COACH_AUTO_MIGRATE", "off", False),
        ("COACH_AUTO_MIGRATE", "YES", True),
        ("COACH_MODEL_TIMEOUT", "2.5", 2.5),
        ("COACH_MODEL_ATTEMPTS", "5", 5),
        ("COACH_PROXY_HOPS", "0", 0),
        ("COACH_RATE_LIMIT", "5/second; 100 per day", "5/second; 100 per day"),
        ("COACH_REDIS_URL", "rediss://cache:6380/0", "rediss://cache:6380/0"),
        ("COACH_ENV", "development", "development"),
    ],
)
def test_good_environment_values_are_parsed(instance, monkeypatch, name, raw, value):
    monkeypatch.setenv(name, raw)
    assert create_app().config[name] == value


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


def readme_settings() -> dict[str, str]:
    """The README's "Settings" table: each variable and its default cell."""
    section = README.read_text("utf-8").split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    defaults = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]):
            defaults[name] = cells[1]
    return defaults


def test_the_readme_lists_exactly_the_settings_of_the_code():
    assert sorted(readme_settings()) == sorted(setting.name for setting in SETTINGS)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_the_readme_states_the_codes_default(setting):
    cell = readme_settings()[setting.name]
    literal = re.fullmatch(r"`([^`]+)`", cell)
    if cell == "unset":
        assert setting.default is None
    elif literal:
        assert setting.parse(literal[1]) == setting.default
    else:
        # Only an unset default, or a folder that depends on where the coach is
        # installed, may be described in words instead of stated.
        assert setting.default is None or Path(setting.default).is_absolute(), cell
