"""The JSON API under /api/v1: one blueprint, `bp`, made of a module per resource
(`auth`, `sessions`, `replies`, `plans`, `counselor`, `me`, `admin`, `docs`), each a nested
blueprint of its own."""

from __future__ import annotations

from flask import Blueprint

from coach.web.api import admin, auth, counselor, docs, me, plans, replies, sessions

bp = Blueprint("api", __name__, url_prefix="/api/v1")
for resource in (auth, sessions, replies, plans, counselor, me, admin, docs):
    bp.register_blueprint(resource.bp)
