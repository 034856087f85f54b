"""The safety step of a turn: after the seeker's message is stored and before any
stage logic, keyword rule or model call, screen it (with the few messages before
it, for a statement spread over two) and decide the route the turn takes.

- A crisis flags the session, starts careful mode and stores a safety event; the
  reply is the fixed crisis reply, and no model is asked anything.
- In careful mode the coach checks in with fixed words and keeps the resources in
  view, until the seeker says they are safe (or a counselor clears it).
- Distress that is not a crisis gets care and a gentle check, never a tip.
- The screen fails closed: if it errors, the seeker gets the resources.

Events and logs carry the rules' names, never the seeker's words.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from flask import Flask
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from coach.safety.crisis import FAILED_CLOSED, Screening
from coach.safety.rules import SafetyRules, safety_rules
from coach.storage.database import short_transaction
from coach.storage.models import MESSAGES_TABLE, CoachingSession, Message, SafetyEvent

log = logging.getLogger(__name__)

CRISIS_FLAG = "crisis"
# Earlier seeker messages read with the new one: enough for a statement split
# over two or three turns, few enough to keep the screen cheap.
EARLIER_MESSAGES = 3

RouteKind = Literal["coach", "crisis", "check_in", "safe_again", "distress"]
# The replies beside which the help to reach now is shown.
SHOWS_RESOURCES = ("crisis", "check_in")
# The routes whose replies are fixed words, written by people, never by a model.
FIXED_WORDS = ("crisis", "check_in", "safe_again", "distress")


@dataclass(frozen=True)
class SafetyRoute:
    """What the safety rules decided for one seeker message."""

    kind: RouteKind
    # The fixed, human-written reply for this route; None where the coach answers.
    fixed_reply: str | None = None
    # The conversation's first message: the reply says first what the coach is.
    first_message: bool = False

    @property
    def discloses(self) -> bool:
        """Whether the reply carries the disclosure of what the coach is. A crisis
        reply says in its own words that the coach is an AI, not a crisis line."""
        return self.first_message and self.kind != "crisis"


def screen_turn(app: Flask, session_id: int, message_id: int, *, first_time: bool) -> SafetyRoute:
    """Screen a stored seeker message and settle careful mode; `first_time` is false
    for a retry, which takes the same route without counting the events twice."""
    rules = safety_rules(app)
    try:
        with short_transaction(app) as db:
            coaching_session = db.get_one(CoachingSession, session_id, with_for_update=True)
            message = db.get_one(Message, message_id)
            return screen_message(db, rules, coaching_session, message, first_time=first_time)
    except Exception:
        # Fail closed: whatever went wrong, the seeker sees the resources, and the
        # session is treated as a crisis (flagged, careful) if that can be stored.
        log.exception("the safety screen failed for session %s; showing the resources", session_id)
        _flag_after_failure(app, session_id)
        return SafetyRoute("crisis", rules.replies.crisis_reply(rules.resources))


def screen_message(
    db: Session,
    rules: SafetyRules,
    coaching_session: CoachingSession,
    message: Message,
    *,
    first_time: bool,
) -> SafetyRoute:
    """`screen_turn` in the caller's transaction, the session's row locked by the
    caller. It does not fail closed itself: a caller that catches its error must
    roll back what it wrote and screen again with `screen_turn`, which does."""
    earlier = _earlier_messages(db, message)
    screening = _screen(rules, message, earlier)
    if screening.level != "crisis" and coaching_session.careful_since is None:
        # The distress reply asks whether thoughts of not wanting to be here have
        # started: a yes right after it is a disclosure. (The reply is read only when
        # the message opens with a yes, so most turns run no query for it.)
        answer = rules.crisis_screen.answers_check_in(message.content)
        if answer is not None and _answers_distress_reply(db, message):
            screening = answer
    route = _route(db, coaching_session, message, screening, rules, first_time)
    return replace(route, first_message=not earlier)


def _flag_after_failure(app: Flask, session_id: int) -> None:
    try:
        with short_transaction(app) as db:
            coaching_session = db.get_one(CoachingSession, session_id, with_for_update=True)
            flag_crisis(db, coaching_session, "crisis", "screen_failed")
    except Exception:
        log.exception("could not flag session %s after the screen failed", session_id)


def in_careful_mode(app: Flask, session_id: int) -> bool:
    """Whether the session is in careful mode (the model's second look may have just
    put it there)."""
    with short_transaction(app, read_only=True) as db:
        since = db.scalar(
            select(CoachingSession.careful_since).where(CoachingSession.id == session_id)
        )
    return since is not None


def _screen(rules: SafetyRules, message: Message, earlier: list[str]) -> Screening:
    try:
        return rules.crisis_screen.screen_for_crisis(message.content, earlier)
    except Exception:
        log.exception("the crisis rules failed on message %s; treating it as a crisis", message.id)
        return FAILED_CLOSED


_messages = MESSAGES_TABLE.c

# Every turn screens against these: built once (building costs more than running it).
_EARLIER_MESSAGES = (
    select(_messages.content)
    .where(_messages.coaching_session_id == bindparam("session_id"))
    .where(_messages.role == "user", _messages.id < bindparam("before"))
    .order_by(_messages.id.desc())
    .limit(EARLIER_MESSAGES)
)


# The reply just before a seeker message: whether it was the distress reply.
# The safety rules that wrote the coach's last replies before a message, newest first.
_REPLIES_BEFORE = (
    select(_messages.safety)
    .where(_messages.coaching_session_id == bindparam("session_id"))
    .where(_messages.role == "assistant", _messages.id < bindparam("before"))
    .order_by(_messages.id.desc())
    .limit(bindparam("count"))
)
# How far back check-ins in a row are counted: enough to alternate their words.
CHECK_INS_COUNTED = 20


def _answers_distress_reply(db: Session, message: Message) -> bool:
    return _replies_before(db, message, 1)[:1] == ["distress"]


def _replies_before(db: Session, message: Message, count: int) -> list[str | None]:
    """Which safety rule wrote each of the coach's `count` replies before this message
    (None for a coached one), newest first."""
    params = {"session_id": message.coaching_session_id, "before": message.id, "count": count}
    return list(db.scalars(_REPLIES_BEFORE, params))


def _check_in_words(db: Session, message: Message, rules: SafetyRules) -> str:
    """The check-in, in other words than the one just before it: the same words twice
    in a row read as not listening. Check-ins in a row alternate, counted (not read
    back from the stored words, which change with the help lines shown)."""
    replies, resources = rules.replies, rules.resources
    before = _replies_before(db, message, CHECK_INS_COUNTED)
    in_a_row = next((i for i, safety in enumerate(before) if safety != "check_in"), len(before))
    return replies.check_in_reply(resources, again=in_a_row % 2 == 1)


def _earlier_messages(db: Session, message: Message) -> list[str]:
    newest_first = db.scalars(
        _EARLIER_MESSAGES, {"session_id": message.coaching_session_id, "before": message.id}
    ).all()
    return list(reversed(newest_first))


def _route(
    db: Session,
    coaching_session: CoachingSession,
    message: Message,
    screening: Screening,
    rules: SafetyRules,
    first_time: bool,
) -> SafetyRoute:
    # The session's state follows the message on every attempt (a retry answers a
    # message whose first attempt may have failed before its state was stored);
    # only the event, which counts referrals, is kept once.
    replies, resources = rules.replies, rules.resources
    if screening.level == "crisis":
        flag_crisis(
            db, coaching_session, "crisis", ",".join(screening.matched_rule), record=first_time
        )
        return SafetyRoute("crisis", replies.crisis_reply(resources))
    retry_after_leaving = not first_time and _left_careful_mode_with(db, message)
    if coaching_session.careful_since is not None or retry_after_leaving:
        if rules.safe_statements.says_they_are_safe(message.content):
            if coaching_session.careful_since is not None:
                leave_careful_mode(db, coaching_session, "seeker")
            return SafetyRoute("safe_again", replies.glad_safe_reply(resources))
        return SafetyRoute("check_in", _check_in_words(db, message, rules))
    if screening.level == "distress":
        if first_time:
            record_event(db, coaching_session.id, "distress", ",".join(screening.matched_rule))
        return SafetyRoute("distress", replies.distress_reply(resources))
    return SafetyRoute("coach")


def flag_crisis(
    db: Session, coaching_session: CoachingSession, kind: str, detail: str, *, record: bool = True
) -> None:
    """Flag the session and put it in careful mode (both idempotent), and keep a
    record without its words unless `record` is false (the event is kept already)."""
    if CRISIS_FLAG not in coaching_session.flags:
        # A new list, so that the JSON column sees the change.
        coaching_session.flags = [*coaching_session.flags, CRISIS_FLAG]
    if coaching_session.careful_since is None:
        coaching_session.careful_since = datetime.now(UTC)
    if record:
        record_event(db, coaching_session.id, kind, detail)


def leave_careful_mode(db: Session, coaching_session: CoachingSession, by: str) -> None:
    coaching_session.careful_since = None
    record_event(db, coaching_session.id, "careful_cleared", by)


def _left_careful_mode_with(db: Session, message: Message) -> bool:
    """Whether this message's first attempt took the session out of careful mode, so
    that its retry gives the same answer rather than coaching: it came right after
    a fixed safety reply, and the session's latest safety event is the seeker's
    leaving careful mode."""
    last_fixed = last_fixed_reply_id(db, message.coaching_session_id, before=message.id)
    if last_fixed is None:
        return False
    seeker_messages_between = db.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.coaching_session_id == message.coaching_session_id)
        .where(Message.role == "user", Message.id > last_fixed, Message.id < message.id)
    )
    latest_event = db.scalars(
        select(SafetyEvent)
        .where(SafetyEvent.coaching_session_id == message.coaching_session_id)
        .order_by(SafetyEvent.id.desc())
        .limit(1)
    ).first()
    return (
        not seeker_messages_between
        and latest_event is not None
        and (latest_event.kind, latest_event.detail) == ("careful_cleared", "seeker")
    )


def last_fixed_reply_id(db: Session, session_id: int, *, before: int | None = None) -> int | None:
    """The newest reply written with fixed safety words. What a model reads into the
    record or screens again starts after it: a crisis and careful mode stay out."""
    query = (
        select(func.max(Message.id))
        .where(Message.coaching_session_id == session_id, Message.role == "assistant")
        .where(Message.safety.in_(FIXED_WORDS))
    )
    if before is not None:
        query = query.where(Message.id < before)
    found: int | None = db.scalar(query)
    return found


def record_event(db: Session, session_id: int | None, kind: str, detail: str) -> None:
    db.add(SafetyEvent(coaching_session_id=session_id, kind=kind, detail=detail[:300]))
    log.info("safety event %s in session %s (%s)", kind, session_id, detail)


def record_safety_event(app: Flask, session_id: int | None, kind: str, detail: str) -> None:
    """A safety event in a transaction of its own."""
    with short_transaction(app) as db:
        record_event(db, session_id, kind, detail)
