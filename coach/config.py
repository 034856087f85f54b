"""Configuration: one table of settings, filled from the embedded defaults, then the
instance folder's `config.py`, then the environment, then the test overrides passed
to `create_app`, and checked as a whole before anything else starts.

Every setting has one name, the same as its environment variable, so that the
README, the code and the tests speak of `COACH_MODEL`, never of a second alias.
The README's "Settings" table lists the same settings (a test holds them together).
Which providers exist is the providers' own business: `coach.providers` checks
COACH_PROVIDER.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from coach import resources
from coach.config_parsers import (
    Parser,
    boolean,
    choice,
    database_url,
    folder,
    http_url,
    integer,
    positive_number,
    rate_limit,
    redis_url,
    text,
)
from coach.errors import ConfigurationError
from coach.logs import LOG_FORMATS, LOG_LEVELS

DEVELOPMENT = "development"


@dataclass(frozen=True)
class Setting:
    name: str  # also its environment variable
    default: Any  # None means unset, which only these settings may be
    parse: Parser
    meaning: str
    secret: bool = False  # never shown in an error message


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "COACH_ENV",
        DEVELOPMENT,
        choice(DEVELOPMENT, "production"),
        "production requires COACH_SECRET_KEY and sets secure cookies",
    ),
    Setting(
        "COACH_SECRET_KEY",
        None,
        text,
        "signs the browser's cookie; unset in development, a key is generated once "
        "into the instance folder",
        secret=True,
    ),
    Setting(
        "COACH_DATABASE_URL",
        None,
        database_url,
        "SQLAlchemy URL; unset, a SQLite file coach.db in the instance folder",
        secret=True,
    ),
    Setting(
        "COACH_AUTO_MIGRATE",
        True,
        boolean,
        "`coach serve` brings the schema up to date before serving",
    ),
    Setting(
        "COACH_INSTANCE_PATH",
        None,
        text,
        "where config.py, the SQLite file and the development key live; read from the "
        "environment only, since config.py is inside it",
    ),
    Setting("OPENAI_API_KEY", None, text, "the model endpoint's key", secret=True),
    Setting("OPENAI_BASE_URL", None, http_url, "the model endpoint; unset, OpenAI's"),
    Setting("COACH_MODEL", "gpt-4o-mini", text, "the model name"),
    Setting(
        "COACH_PROVIDER",
        None,
        text,
        "force one provider; unset, `openai` when OPENAI_API_KEY is set, else `guided`",
    ),
    Setting(
        "COACH_MODEL_TIMEOUT",
        30.0,
        positive_number,
        "seconds to open a reply and between chunks (a whole reply: plus max tokens / 10)",
    ),
    Setting("COACH_MODEL_ATTEMPTS", 3, integer(minimum=1), "attempts at opening a reply"),
    Setting(
        "COACH_MAX_REPLY_TOKENS",
        400,
        integer(minimum=1),
        "the most tokens the model may write in one reply (its `max_tokens`)",
    ),
    Setting(
        "COACH_MAX_MESSAGE_CHARS", 4000, integer(minimum=1), "longest message a seeker may send"
    ),
    Setting(
        "COACH_RECENT_MESSAGES",
        8,
        integer(minimum=1),
        "turns the model sees verbatim; older ones are summarised",
    ),
    Setting("COACH_SUMMARY_MAX_CHARS", 1500, integer(minimum=1), "size of the rolling summary"),
    Setting(
        "COACH_FOLD_CHUNK",
        16,
        integer(minimum=1),
        "messages folded into the summary at once, so the prompt's start changes only then",
    ),
    Setting(
        "COACH_RECORD_READING",
        "stage_change",
        choice("stage_change", "every_turn"),
        "when a model reads the turns into the record: once a stage ends, or after every turn",
    ),
    Setting(
        "COACH_BACKGROUND_QUEUE",
        64,
        integer(minimum=1),
        "background jobs waiting at most; more are dropped and done before the next turn",
    ),
    Setting("COACH_RATE_LIMIT", "30 per minute", rate_limit, "messages a seeker may send"),
    Setting(
        "COACH_GUEST_LIMIT", "20 per hour", rate_limit, "guest accounts one address may create"
    ),
    Setting("COACH_LOGIN_LIMIT", "10 per minute", rate_limit, "logins one address may try"),
    Setting("COACH_SESSION_LIMIT", "60 per hour", rate_limit, "conversations a seeker may start"),
    Setting("COACH_PLAN_LIMIT", "30 per hour", rate_limit, "plans a seeker may have made"),
    Setting(
        "COACH_TOKEN_TTL_HOURS",
        720,
        integer(minimum=1),
        "hours an API token stays valid after it is issued (`DELETE /api/v1/auth/token` ends"
        " it sooner)",
    ),
    Setting(
        "COACH_GUEST_RETENTION_DAYS",
        90,
        integer(minimum=1),
        "`coach purge` deletes guests whose conversations nobody has opened for this many days",
    ),
    Setting(
        "COACH_CRISIS_REGION",
        "INTL",
        text,
        "whose helplines and emergency number the crisis reply gives (a region in "
        "`prompts/safety/resources.toml`: `US`, `GB`, `IE`, or `INTL` for the "
        "international directory)",
    ),
    Setting(
        "COACH_REDIS_URL",
        None,
        redis_url,
        "shared rate-limit storage; unset, each process counts alone",
        secret=True,
    ),
    Setting(
        "COACH_PROXY_HOPS",
        0,
        integer(minimum=0),
        "proxies in front of the app whose X-Forwarded-For and -Proto are trusted",
    ),
    Setting(
        "COACH_SSE_KEEPALIVE_SECONDS",
        15.0,
        positive_number,
        "a streamed reply that has said nothing for this long sends an SSE comment, so "
        "that a proxy's idle timeout does not cut it",
    ),
    Setting(
        "COACH_LOG_FORMAT",
        "text",
        choice(*LOG_FORMATS),
        "`text` lines, or `json` (one object per line) for a log collector; read from "
        "the environment by `coach serve` and gunicorn.conf.py",
    ),
    Setting(
        "COACH_LOG_LEVEL",
        "INFO",
        choice(*LOG_LEVELS),
        "the least severe level logged; read from the environment like COACH_LOG_FORMAT",
    ),
    Setting(
        "COACH_METRICS_TOKEN",
        None,
        text,
        "the bearer token a Prometheus scraper sends to read /metrics; unset, /metrics "
        "is not served",
        secret=True,
    ),
    Setting(
        "COACH_PROMPTS_DIR",
        str(resources.resource_dir("prompts")),
        folder,
        "the prompts and frameworks; by default those shipped with the coach",
    ),
)

# Flask's own settings, fixed here rather than exposed (config.py and tests may
# still change them).
FLASK_SETTINGS: dict[str, Any] = {
    # A request body larger than this is refused before it is read (413).
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
}


def instance_path_from_environment() -> str | None:
    """COACH_INSTANCE_PATH made absolute (Flask insists), or None for Flask's default."""
    raw = os.environ.get("COACH_INSTANCE_PATH")
    return os.path.abspath(raw) if raw else None


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill `app.config` in order of precedence, then check every setting."""
    app.config.from_mapping(FLASK_SETTINGS)
    app.config.from_mapping({setting.name: setting.default for setting in SETTINGS})
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(_from_environment())
    if test_config:
        app.config.from_mapping(test_config)
    # The folder was chosen before config.py could be read (config.py lives in it).
    app.config["COACH_INSTANCE_PATH"] = app.instance_path
    for setting in SETTINGS:
        app.config[setting.name] = checked(setting, app.config[setting.name])
    _settle_derived_settings(app)


def _from_environment() -> dict[str, str]:
    # An empty variable counts as unset, as it does for most tools.
    return {
        setting.name: os.environ[setting.name]
        for setting in SETTINGS
        if os.environ.get(setting.name)
    }


def checked(setting: Setting, value: object) -> Any:
    """The parsed value, or a ConfigurationError that names the setting."""
    if value is None and setting.default is None:
        return None
    try:
        return setting.parse(value)
    except ValueError as exc:
        shown = "its value" if setting.secret else repr(value)
        raise ConfigurationError(f"{setting.name}: {shown} is refused, {exc}") from None


def is_development(app: Flask) -> bool:
    return bool(app.config["COACH_ENV"] == DEVELOPMENT)


def _settle_derived_settings(app: Flask) -> None:
    instance = Path(app.instance_path)
    if not app.config["COACH_DATABASE_URL"]:
        app.config["COACH_DATABASE_URL"] = f"sqlite:///{instance / 'coach.db'}"
    # An instance config.py or a test may also set Flask's SECRET_KEY directly.
    secret_key = app.config["COACH_SECRET_KEY"] or app.config.get("SECRET_KEY")
    if not secret_key:
        if not is_development(app):
            raise ConfigurationError("COACH_SECRET_KEY must be set outside development")
        secret_key = _development_secret_key(instance)
    app.config["SECRET_KEY"] = secret_key
    app.config["SESSION_COOKIE_SECURE"] = not is_development(app)


def _development_secret_key(instance: Path) -> str:
    """A random key made once and kept, so that a restart does not sign everybody out."""
    key_file = instance / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
