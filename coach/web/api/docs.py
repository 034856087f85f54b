"""The API's own description: the OpenAPI document at /api/v1/openapi.json, and
Swagger UI reading it at /api/docs.

Swagger UI's files come from the `swagger-ui-bundle-v2` package (Swagger UI 5,
which reads OpenAPI 3.1) and are served by us, so the page needs no CDN and keeps
the app's strict Content Security Policy: its initialiser is a static script of
ours (`coach/static/api-docs.js`), not an inline one. The page lives outside
/api/v1, so `ui` is a blueprint of its own.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template_string,
    send_from_directory,
)
from swagger_ui_bundle import swagger_ui_path

from coach.web.openapi import documented, openapi_document
from coach.web.schemas import OpenApiDocument

bp = Blueprint("docs", __name__)
ui = Blueprint("api_docs", __name__, url_prefix="/api/docs")

# The only files of the bundle the page uses.
SWAGGER_UI_ASSETS = {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"}
ASSET_MAX_AGE_SECONDS = 24 * 3600

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>The coach: API documentation</title>
  <link rel="stylesheet" href="{{ url_for('api_docs.asset', name='swagger-ui.css') }}">
  <link rel="icon" href="{{ url_for('api_docs.asset', name='favicon-32x32.png') }}">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{{ url_for('api.docs.openapi') }}"></div>
  <script src="{{ url_for('api_docs.asset', name='swagger-ui-bundle.js') }}"></script>
  <script src="{{ url_for('static', filename='api-docs.js') }}"></script>
</body>
</html>
"""


@bp.get("/openapi.json")
@documented({200: OpenApiDocument}, public=True)
def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 description of the JSON API."""
    return openapi_document(current_app)


@ui.get("")
def page() -> str:
    """The API's browsable documentation."""
    return render_template_string(PAGE)


@ui.get("/assets/<name>")
def asset(name: str) -> Response:
    """One of Swagger UI's own files, from the installed package."""
    if name not in SWAGGER_UI_ASSETS:
        abort(404)
    return send_from_directory(str(swagger_ui_path), name, max_age=ASSET_MAX_AGE_SECONDS)
