"""The coach: a Flask app that helps a person through a job rejection that came
after a second interview. `create_app` builds one app; each part registers itself
through its own `init_app`."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from coach import (
    auth,
    background,
    cli,
    config,
    db,
    errors,
    frameworks,
    health,
    limits,
    prompting,
    providers,
    reflection,
    web,
)
from coach.api import auth as api_auth
from coach.api import sessions as api_sessions

__all__ = ["create_app"]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        # Where the SQLite file, the development secret key and config.py live.
        instance_path=os.environ.get("COACH_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(config.PROJECT_ROOT / "templates"),
    )
    config.load_config(app, test_config)
    hops = app.config["COACH_PROXY_HOPS"]
    if hops:
        # Rate limits and secure cookies need the client's address and scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    db.init_app(app)
    if app.config["COACH_AUTO_MIGRATE"]:
        db.upgrade_schema(app)
    errors.init_app(app)
    frameworks.init_app(app)
    prompting.init_app(app)
    reflection.init_app(app)
    providers.init_app(app)
    background.init_app(app)
    limits.init_app(app)
    auth.init_app(app)

    app.register_blueprint(api_auth.bp)
    app.register_blueprint(api_sessions.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(web.bp)
    cli.init_app(app)
    app.after_request(_security_headers)
    return app


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
