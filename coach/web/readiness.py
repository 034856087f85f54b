"""What `/readyz` checks: that this instance can answer a seeker now.

- the database answers;
- Redis answers, when COACH_REDIS_URL is set. Its failure alone leaves the
  instance ready, marked degraded: the rate limits fall back to counting in
  memory (`coach.web.limits`), and taking every instance out of the load
  balancer because Redis is down would stop a service that still works;
- the prompts (every file under COACH_PROMPTS_DIR that the app read when it
  started: TOML parses, Jinja templates compile) and the HTML templates are
  still there and readable, since a deploy that lost them fails every turn.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import redis
from flask import Flask
from jinja2 import Environment, TemplateError
from sqlalchemy import text

from coach.storage.database import get_db

log = logging.getLogger(__name__)

EXTENSION_KEY = "coach.web.readiness"
REDIS_TIMEOUT_SECONDS = 1.0
CheckResult = Literal["ok", "failed", "not_configured"]
OK: CheckResult = "ok"
FAILED: CheckResult = "failed"
NOT_SET: CheckResult = "not_configured"
PROMPT_SUFFIXES = (".toml", ".j2")


@dataclass
class Readiness:
    checks: dict[str, CheckResult] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(self.checks[name] == OK for name in ("database", "prompts", "templates"))

    @property
    def status(self) -> Literal["ready", "degraded", "not_ready"]:
        if not self.ready:
            return "not_ready"
        return "degraded" if self.checks.get("redis") == FAILED else "ready"


@dataclass(frozen=True)
class StartupFiles:
    """The prompt and page files present when the app was built."""

    prompts_dir: Path
    prompts: tuple[Path, ...]
    templates: tuple[str, ...]


def init_app(app: Flask) -> None:
    prompts_dir = Path(app.config["COACH_PROMPTS_DIR"])
    app.extensions[EXTENSION_KEY] = StartupFiles(
        prompts_dir=prompts_dir,
        prompts=tuple(sorted(p for p in prompts_dir.rglob("*") if p.suffix in PROMPT_SUFFIXES)),
        templates=tuple(app.jinja_env.list_templates(extensions=["html"])),
    )


def check_readiness(app: Flask) -> Readiness:
    files: StartupFiles = app.extensions[EXTENSION_KEY]
    return Readiness(
        {
            "database": _checked("database", _database),
            "redis": _redis(app.config["COACH_REDIS_URL"]),
            "prompts": _checked("prompts", lambda: _prompts(files)),
            "templates": _checked("templates", lambda: _templates(app, files)),
        }
    )


def _checked(name: str, check: Callable[[], None]) -> CheckResult:
    try:
        check()
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        log.warning("readiness: %s failed: %s", name, exc)
        return FAILED
    return OK


def _database() -> None:
    get_db().execute(text("SELECT 1"))


def _redis(url: str | None) -> CheckResult:
    if not url:
        return NOT_SET
    client = redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS
    )
    try:
        return _checked("redis", lambda: _ping(client))
    finally:
        client.close()


def _ping(client: redis.Redis) -> None:
    client.ping()


def _prompts(files: StartupFiles) -> None:
    parser = Environment(autoescape=False)  # noqa: S701 - parses prompts, renders nothing
    for path in files.prompts:
        source = path.read_text("utf-8")
        if path.suffix == ".toml":
            tomllib.loads(source)
        else:
            try:
                parser.parse(source)
            except TemplateError as exc:
                raise ValueError(f"{path.relative_to(files.prompts_dir)}: {exc}") from exc


def _templates(app: Flask, files: StartupFiles) -> None:
    loader = app.jinja_env.loader
    assert loader is not None
    for name in files.templates:
        source, _filename, _uptodate = loader.get_source(app.jinja_env, name)
        app.jinja_env.parse(source)
