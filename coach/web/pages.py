"""The browser UI: server-rendered pages; the chat itself talks to the JSON API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from coach.coaching.privacy import delete_everything as erase_user
from coach.coaching.sessions import (
    create_session,
    get_owned_session,
    list_sessions,
    message_page,
)
from coach.counsel.consent import set_sharing
from coach.counsel.notes import notes_for_seeker
from coach.errors import CoachError, NotFound
from coach.guide.frameworks import frameworks
from coach.guide.record import CHOSEN_EVIDENCE, MAX_ITEM_CHARS
from coach.plans.generation import generate_plan
from coach.plans.schema import DEFAULT_HORIZON, HORIZONS
from coach.plans.templates import plan_templates
from coach.plans.tracking import (
    describe_plan,
    describe_version,
    latest_plans,
    progress,
    session_checkins,
    session_plan,
    session_plans,
)
from coach.providers import provider
from coach.safety.rules import safety_rules
from coach.storage.database import get_db
from coach.web.auth import (
    browser_seeker,
    check_credentials,
    create_guest,
    csrf_token,
    current_user,
    sign_in_browser,
    sign_out_browser,
)
from coach.web.chat_view import RECORD_GROUPS
from coach.web.limits import (
    address_key,
    guests_per_address,
    limiter,
    login_limit,
    plans_per_seeker,
)
from coach.web.representations import session_json, user_json
from coach.web.schemas import ID_CONVERTER

bp = Blueprint("pages", __name__)

SESSIONS_SHOWN = 50


@bp.app_context_processor
def page_context() -> dict[str, Any]:
    user = current_user()
    chosen = provider()
    return {
        "current_user": user_json(user) if user else None,
        "csrf_token": csrf_token(),
        # None in guided mode, which the pages label as such.
        "model_name": chosen.model_name if chosen.uses_model else None,
        "guest_retention_days": current_app.config["COACH_GUEST_RETENTION_DAYS"],
    }


def _stages() -> list[dict[str, Any]]:
    """The steps of a conversation as the pages name them: the frameworks' own data."""
    return [
        {"key": f.stage, "title": f.title, "summary": f.summary, "position": f.position}
        for f in frameworks().ordered
    ]


def _recent_sessions() -> list[dict[str, Any]] | None:
    user = current_user()
    if user is None:
        return None
    items, _total = list_sessions(get_db(), user, 1, SESSIONS_SHOWN)
    return [session_json(s) for s in items]


def _plan_progress(sessions: list[dict[str, Any]] | None) -> dict[int, dict[str, Any]]:
    """Each listed session's latest plan's progress, for the seeker's home page."""
    plans = latest_plans(get_db(), [s["id"] for s in sessions or []])
    return {sid: progress(plan).model_dump(mode="json") for sid, plan in plans.items()}


@bp.get("/")
def index() -> str:
    """The landing page: what the coach is and is not, and a way in."""
    sessions = _recent_sessions()
    return render_template(
        "index.html",
        sessions=sessions,
        stages=_stages(),
        plan_progress=_plan_progress(sessions),
    )


@bp.post("/start")
@guests_per_address
def start() -> WerkzeugResponse:
    """Start a new conversation, as a new guest unless a seeker signed in here."""
    db = get_db()
    user = browser_seeker()
    if user is None:
        user, _no_token = create_guest(db, with_token=False)
        sign_in_browser(user)
    coaching_session = create_session(db, user)
    return redirect(url_for("pages.chat", session_id=coaching_session.id), code=303)


@bp.get("/login")
def login_form() -> Any:
    """The sign-in page for seekers with an account, counselors and admins."""
    return render_template("login.html", error=None, email="")


@bp.post("/login")
@limiter.limit(login_limit, key_func=address_key)
def login() -> Any:
    """Check the email and password; sign this browser in, or show the form again."""
    email = request.form.get("email", "")
    try:
        user = check_credentials(get_db(), email, request.form.get("password", ""))
    except CoachError as exc:
        return render_template("login.html", error=exc.message, email=email), exc.status
    sign_in_browser(user)
    if user.role == "counselor":
        return redirect(url_for("counsel_pages.dashboard"), code=303)
    if user.role == "admin":
        return redirect(url_for("counsel_pages.audit_log"), code=303)
    return redirect(url_for("pages.list_sessions"), code=303)


@bp.post("/logout")
def logout() -> WerkzeugResponse:
    """Sign this browser out."""
    sign_out_browser()
    return redirect(url_for("pages.index"), code=303)


@bp.get("/sessions", endpoint="list_sessions")
def list_sessions_page() -> Any:
    """The signed-in seeker's conversations, to come back to."""
    sessions = _recent_sessions()
    if sessions is None:
        return redirect(url_for("pages.index"))
    return render_template(
        "sessions.html", sessions=sessions, plan_progress=_plan_progress(sessions)
    )


@bp.get(f"/chat/<{ID_CONVERTER}:session_id>")
def chat(session_id: int) -> Any:
    """One conversation, with the stage progress and the composer."""
    user = current_user()
    if user is None:
        return redirect(url_for("pages.index"))
    db = get_db()
    coaching_session = get_owned_session(db, user, session_id)
    return render_template(
        "chat.html",
        chat=session_json(coaching_session, message_page(db, coaching_session)),
        stages=_stages(),
        max_message_chars=current_app.config["COACH_MAX_MESSAGE_CHARS"],
        crisis_resources=safety_rules().resources.model_dump(mode="json"),
        has_plan=bool(latest_plans(db, [session_id])),
        checkins=[c.model_dump(mode="json") for c in session_checkins(db, session_id)],
        horizons=HORIZONS,
        default_horizon=DEFAULT_HORIZON,
        cause_label=frameworks().cause_label,
        chosen_evidence=CHOSEN_EVIDENCE,
        record_groups=RECORD_GROUPS,
        record_max_chars=MAX_ITEM_CHARS,
    )


@bp.post(f"/chat/<{ID_CONVERTER}:session_id>/sharing")
def change_sharing(session_id: int) -> WerkzeugResponse:
    """Share the conversation with counselors, or stop; with or without one's name."""
    user = current_user()
    if user is None:
        return redirect(url_for("pages.index"), code=303)
    db = get_db()
    coaching_session = get_owned_session(db, user, session_id)
    shared = request.form.get("shared") == "yes"
    show_name = shared and request.form.get("show_name") == "yes"
    set_sharing(db, user, coaching_session, shared=shared, show_name=show_name)
    return redirect(url_for("pages.chat", session_id=session_id, _anchor="sharing"), code=303)


@bp.get(f"/chat/<{ID_CONVERTER}:session_id>/plan")
def plan(session_id: int) -> Any:
    """A session's action plan: progress, ticking off, editing, the exports."""
    user = current_user()
    if user is None:
        return redirect(url_for("pages.index"))
    db = get_db()
    coaching_session = get_owned_session(db, user, session_id)
    version = request.args.get("version", type=int)
    try:
        shown = session_plan(db, user, session_id, version)
    except NotFound:
        if version is not None:
            raise
        shown = None
    return render_template(
        "plan.html",
        chat=session_json(coaching_session),
        plan=None
        if shown is None
        else describe_plan(shown, plan_templates().disclaimer).model_dump(mode="json"),
        versions=[
            describe_version(p).model_dump(mode="json") for p in session_plans(db, user, session_id)
        ],
        horizons=HORIZONS,
        default_horizon=DEFAULT_HORIZON,
        cause_label=frameworks().cause_label,
        chosen_evidence=CHOSEN_EVIDENCE,
        counselor_notes=[
            n.model_dump(mode="json") for n in notes_for_seeker(db, user, coaching_session.id)
        ],
    )


@bp.post(f"/chat/<{ID_CONVERTER}:session_id>/plan")
@plans_per_seeker
def make_plan(session_id: int) -> WerkzeugResponse:
    """Generate the session's plan (a new version), then show it."""
    user = current_user()
    if user is None:
        return redirect(url_for("pages.index"), code=303)
    horizon = request.form.get("horizon_weeks", default=DEFAULT_HORIZON, type=int)
    generate_plan(current_app._get_current_object(), user.id, session_id, horizon)  # type: ignore[attr-defined]
    return redirect(url_for("pages.plan", session_id=session_id), code=303)


@bp.post("/me/delete")
def delete_everything() -> WerkzeugResponse:
    """Delete the signed-in seeker and everything they stored, then start afresh."""
    user = current_user()
    if user is not None and request.form.get("confirm") == "yes":
        erase_user(current_app, user.id)
        session.clear()
    return redirect(url_for("pages.index"), code=303)
