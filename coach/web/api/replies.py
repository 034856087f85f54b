"""The chat turns within a session: a message and its reply, a retry, a cancel.

Each turn is handed the plan writer (`coach.plans.chat.write_plan_reply`), which
answers a message that asks for the plan. It is wired here because this layer sees
both areas: plans import coaching, so coaching cannot import plans.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from coach.coaching.sessions import cancel_reply
from coach.coaching.turns import begin_retry, begin_turn, validate_content
from coach.plans.chat import write_plan_reply
from coach.web.api.requests import parse_body
from coach.web.api.sessions import SESSION_ID
from coach.web.auth import require_user
from coach.web.limits import limiter, message_limit
from coach.web.openapi import documented
from coach.web.schemas import REPLY_EVENTS, Cancelling, MessageCreate, Turn
from coach.web.streaming import reply_response

bp = Blueprint("replies", __name__, url_prefix=f"/sessions/{SESSION_ID}")

# A reply already being written or nothing to retry; the rate limit; the model failing.
TURN_ERRORS = (409, 429, 502)


@bp.post("/messages")
@documented({201: Turn}, body=MessageCreate, errors=TURN_ERRORS, events=REPLY_EVENTS)
@limiter.limit(message_limit)
def post_message(session_id: int) -> Any:
    """Store the seeker's message, then answer it (JSON, or SSE when asked for)."""
    user = require_user()
    content = validate_content(
        parse_body(MessageCreate).content, current_app.config["COACH_MAX_MESSAGE_CHARS"]
    )
    return reply_response(
        begin_turn(_app(), user.id, session_id, content, write_plan=write_plan_reply)
    )


@bp.post("/retry")
@documented({201: Turn}, errors=TURN_ERRORS, events=REPLY_EVENTS)
@limiter.limit(message_limit)
def retry(session_id: int) -> Any:
    """Answer the last message again after its reply failed or broke off."""
    return reply_response(
        begin_retry(_app(), require_user().id, session_id, write_plan=write_plan_reply)
    )


@bp.post("/cancel")
@documented({202: Cancelling}, errors=(409,))
def cancel(session_id: int) -> tuple[dict[str, Any], int]:
    """Stop the reply being written; what it wrote so far is kept as partial."""
    cancel_reply(_app(), require_user().id, session_id)
    return Cancelling(cancelling=True).model_dump(mode="json"), 202


def _app() -> Any:
    # The reply outlives the request that starts it: it gets the app itself.
    return current_app._get_current_object()  # type: ignore[attr-defined]
