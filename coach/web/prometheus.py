"""`/metrics` for a Prometheus scraper (`coach.metrics` keeps the counts).

Who may read it: only a scraper that sends `Authorization: Bearer
<COACH_METRICS_TOKEN>`; without that setting the route is not served at all (404),
so that a public deployment shows nothing by default. The numbers carry no one's
words or identity, but they say how busy the service is and how often crisis
replies are given, which is not for everyone.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request

from coach.errors import NotAuthenticated, NotFound
from coach.metrics import metrics
from coach.web.openapi import Download, documented

bp = Blueprint("prometheus", __name__)


@bp.get("/metrics")
@documented(
    {200: Download("text/plain", "Prometheus's text exposition format.")},
    errors=(401, 404),
)
def scrape() -> Response:
    """The counts for Prometheus; needs COACH_METRICS_TOKEN as the bearer token."""
    token = current_app.config["COACH_METRICS_TOKEN"]
    if not token:
        raise NotFound("Not found.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
        raise NotAuthenticated("The metrics need their bearer token.")
    body, content_type = metrics(current_app).exposition()
    return Response(body, content_type=content_type)
