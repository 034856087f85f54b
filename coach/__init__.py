"""The coach: a Flask app that helps a person through a job rejection that came
after a second interview. `create_app` builds one app; each part registers itself
through its own `init_app`.

The areas, each a subpackage whose docstring says what it owns; imports run one
way, from the top of this list down:

- `web`: the JSON API, the browser pages, auth, limits, streaming, health;
- `coaching`: how a turn is answered and the life of a reply, stages, prompts,
  the reflection record's rules, the seeker's sessions;
- `plans`: action plans, generated from a session and tracked over visits; exports;
- `safety`: the crisis screen, careful mode, the fixed crisis replies and their
  resources, the output guard;
- `providers`: the provider interface, `guided` and `openai`;
- `guide` and `storage`: the guide's frameworks as data and the record's shape;
  the database, its models and migrations;
- `config`, `resources` (where the prompts and HTML templates are), `errors`,
  `logs` and `metrics`, which every area may use; `serving`, gunicorn's settings.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from coach import cli, config, logs, metrics, providers, resources
from coach.coaching import background, clock, keyword_rules, prompts, reading, reply_mark
from coach.guide import frameworks
from coach.plans import templates as plan_templates
from coach.safety import rules as safety_rules
from coach.storage import database
from coach.web import (
    api,
    auth,
    counsel_pages,
    errors,
    health,
    limits,
    pages,
    prometheus,
    readiness,
    request_log,
)
from coach.web.schemas import ID_CONVERTER, IdConverter

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
        instance_path=config.instance_path_from_environment(),
        instance_relative_config=True,
        template_folder=str(resources.resource_dir("templates")),
    )
    config.load_config(app, test_config)
    logs.hide_secrets_of(app.config)
    hops = app.config["COACH_PROXY_HOPS"]
    if hops:
        # Rate limits and secure cookies need the client's address and scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    # No migration here: `coach serve` and `coach db upgrade` do it, so that building
    # an app (a gunicorn worker, a test, a script) never changes the schema.
    database.init_app(app)
    # First of the request hooks: a request refused by a limit still gets its id.
    request_log.init_app(app)
    errors.init_app(app)
    # First of the hooks that run before a view: nothing may wait on the body.
    api.requests.init_app(app)
    frameworks.init_app(app)
    prompts.init_app(app)
    keyword_rules.init_app(app)
    plan_templates.init_app(app)
    reading.init_app(app)
    safety_rules.init_app(app)
    providers.init_app(app)
    background.init_app(app)
    clock.init_app(app)
    reply_mark.init_app(app)
    metrics.init_app(app, database.database(app).engine)
    limits.init_app(app)
    auth.init_app(app)
    readiness.init_app(app)

    # Before any route is added: the routes' ids are read with it.
    app.url_map.converters[ID_CONVERTER] = IdConverter
    app.register_blueprint(api.bp)
    app.register_blueprint(api.docs.ui)  # /api/docs, outside /api/v1
    app.register_blueprint(health.bp)
    app.register_blueprint(prometheus.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(counsel_pages.bp)
    cli.init_app(app)
    app.after_request(_security_headers)
    return app


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint != "static":
        # Pages and answers hold someone's conversation, plan or transcripts: no
        # browser or proxy may keep a copy (a shared computer, after sign-out).
        response.headers.setdefault("Cache-Control", "no-store")
    return response
