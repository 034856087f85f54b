"""Configuration: embedded defaults, then the instance folder, then the environment,
then the test overrides passed to `create_app`.

Every setting has one name, the same as its environment variable, so that the
README, the code and the tests speak of `COACH_MODEL`, never of a second alias.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from coach.errors import ConfigurationError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    # "development" generates and keeps a secret key in the instance folder;
    # any other value requires COACH_SECRET_KEY and marks cookies secure.
    "COACH_ENV": "development",
    "COACH_DATABASE_URL": None,  # None: a SQLite file in the instance folder
    # Bring the schema up to date when the app starts (a lock keeps concurrent
    # starts on PostgreSQL from racing); off where deployments migrate separately.
    "COACH_AUTO_MIGRATE": True,
    "COACH_PROVIDER": None,  # None: "openai" when OPENAI_API_KEY is set, else "guided"
    "OPENAI_API_KEY": None,
    "OPENAI_BASE_URL": None,
    "COACH_MODEL": "gpt-4o-mini",
    "COACH_MODEL_TIMEOUT": 30.0,  # seconds, for opening a reply and between chunks
    "COACH_MODEL_ATTEMPTS": 3,  # tenacity attempts at opening a reply
    "COACH_MAX_MESSAGE_CHARS": 4000,
    "COACH_RECENT_MESSAGES": 8,  # turns kept verbatim in the prompt
    "COACH_SUMMARY_MAX_CHARS": 1500,  # the rolling summary of older turns
    "COACH_REDIS_URL": None,
    "COACH_RATE_LIMIT": "30 per minute",  # messages a user may post
    # Proxies in front of the app (load balancer, nginx) whose X-Forwarded-For and
    # X-Forwarded-Proto are trusted; 0 trusts none.
    "COACH_PROXY_HOPS": 0,
    "COACH_PROMPTS_DIR": str(PROJECT_ROOT / "prompts"),
    # A request body larger than this is refused before it is read (413).
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
}

# Settings read from the environment and how to parse them.
ENVIRONMENT_SETTINGS: dict[str, Callable[[str], Any]] = {
    "COACH_ENV": str,
    "COACH_DATABASE_URL": str,
    "COACH_AUTO_MIGRATE": lambda raw: raw.lower() in ("1", "true", "yes"),
    "COACH_PROVIDER": str,
    "OPENAI_API_KEY": str,
    "OPENAI_BASE_URL": str,
    "COACH_MODEL": str,
    "COACH_MODEL_TIMEOUT": float,
    "COACH_MODEL_ATTEMPTS": int,
    "COACH_MAX_MESSAGE_CHARS": int,
    "COACH_RECENT_MESSAGES": int,
    "COACH_SUMMARY_MAX_CHARS": int,
    "COACH_REDIS_URL": str,
    "COACH_RATE_LIMIT": str,
    "COACH_PROXY_HOPS": int,
    "COACH_PROMPTS_DIR": str,
}

PROVIDERS = ("openai", "guided")


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill `app.config` in order of precedence and check the result."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for name, parse in ENVIRONMENT_SETTINGS.items():
        raw = os.environ.get(name)
        if raw:
            try:
                app.config[name] = parse(raw)
            except ValueError as exc:
                raise ConfigurationError(f"{name} has an unreadable value: {raw!r}") from exc
    if os.environ.get("COACH_SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["COACH_SECRET_KEY"]
    if test_config:
        app.config.from_mapping(test_config)
    _settle_derived_settings(app)


def is_development(app: Flask) -> bool:
    return bool(app.config["COACH_ENV"] == "development")


def _settle_derived_settings(app: Flask) -> None:
    if not app.config.get("COACH_DATABASE_URL"):
        app.config["COACH_DATABASE_URL"] = (
            f"sqlite:///{Path(app.instance_path) / 'coach.storage.database'}"
        )
    provider = app.config.get("COACH_PROVIDER") or (
        "openai" if app.config.get("OPENAI_API_KEY") else "guided"
    )
    if provider not in PROVIDERS:
        raise ConfigurationError(f"COACH_PROVIDER must be one of {', '.join(PROVIDERS)}")
    if provider == "openai" and not app.config.get("OPENAI_API_KEY"):
        raise ConfigurationError("COACH_PROVIDER=openai needs OPENAI_API_KEY")
    app.config["COACH_PROVIDER"] = provider
    if not app.config.get("SECRET_KEY"):
        if not is_development(app):
            raise ConfigurationError("COACH_SECRET_KEY must be set outside development")
        app.config["SECRET_KEY"] = _development_secret_key(Path(app.instance_path))
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
