"""The JSON bodies of the HTTP contract, built in one place for the API and the UI.

Each is built as its shape in `coach.web.schemas` (so it is checked against it)
and handed on as plain JSON types."""

from __future__ import annotations

from typing import Any

from pydantic.experimental.missing_sentinel import MISSING

from coach.coaching.reply_mark import is_replying
from coach.coaching.sessions import MessagePage
from coach.guide.frameworks import frameworks
from coach.guide.record import ReflectionRecord
from coach.providers import provider
from coach.safety.rules import safety_rules
from coach.safety.screening import SHOWS_RESOURCES
from coach.storage.models import CoachingSession, Message, User
from coach.web import schemas
from coach.web.chat_view import message_html, retry_offered


def user_json(user: User) -> dict[str, Any]:
    return user_shape(user).model_dump(mode="json")


def message_json(message: Message) -> dict[str, Any]:
    return message_shape(message).model_dump(mode="json")


def session_json(
    coaching_session: CoachingSession, page: MessagePage | None = None
) -> dict[str, Any]:
    return session_shape(coaching_session, page).model_dump(mode="json")


def reflection_json(record: ReflectionRecord) -> dict[str, Any]:
    return reflection_shape(record).model_dump(mode="json")


def session_page_json(
    items: list[CoachingSession], page: int, per_page: int, total: int
) -> dict[str, Any]:
    shown = [session_shape(s) for s in items]
    page_shape = schemas.SessionPage(items=shown, page=page, per_page=per_page, total=total)
    return page_shape.model_dump(mode="json")


def token_grant_json(user: User, token: str) -> dict[str, Any]:
    return schemas.TokenGrant(token=token, user=user_shape(user)).model_dump(mode="json")


def user_shape(user: User) -> schemas.User:
    return schemas.User(id=user.id, role=user.role, is_guest=user.is_guest, email=user.email)


def message_shape(message: Message) -> schemas.Message:
    shape = schemas.Message(
        id=message.id,
        role=message.role,
        content=message.content,
        # Model text is untrusted: the HTML was rendered with raw HTML off and
        # sanitised when the message was stored (`coach.storage.message_html`).
        content_html=message.shown_html(),
        stage=message.stage,
        status=message.status,
        created_at=message.created_at,
        html="",
        safety=MISSING if message.safety is None else _safety(message.safety),
        disclosure=_disclosure() if message.discloses else MISSING,
        choices=list(message.choices or []),
    )
    # The whole article as the page shows it, so that the script shows the same.
    return shape.model_copy(update={"html": message_html(shape.model_dump(mode="json"))})


def session_shape(
    coaching_session: CoachingSession, page: MessagePage | None = None
) -> schemas.Session:
    """The session; with `page`, shown with those messages and what goes with them."""
    return schemas.Session(
        id=coaching_session.id,
        title=coaching_session.title,
        stage=coaching_session.stage,
        shared=coaching_session.shared,
        show_name=coaching_session.show_name,
        flags=list(coaching_session.flags),
        replying=is_replying(coaching_session),
        careful=coaching_session.careful_since is not None,
        created_at=coaching_session.created_at,
        updated_at=coaching_session.updated_at,
        messages=MISSING if page is None else [message_shape(m) for m in page.messages],
        has_earlier=MISSING if page is None else page.has_earlier,
        # The rule needs the messages, so it comes with them.
        retry_offered=MISSING
        if page is None
        else retry_offered(is_replying(coaching_session), page.latest),
        reflection=MISSING
        if page is None
        else reflection_shape(ReflectionRecord.model_validate(coaching_session.reflection)),
    )


def reflection_shape(record: ReflectionRecord) -> schemas.Reflection:
    """The record as the seeker sees it: each likely cause with its name for people."""
    label = frameworks().cause_label
    causes = [
        schemas.ReflectedCause(cause=c.cause, label=label(c.cause), evidence=c.evidence)
        for c in record.likely_causes
    ]
    # Field by field: the contract's shape, whatever else the record comes to keep.
    return schemas.Reflection(
        emotions=record.emotions,
        likely_causes=causes,
        cause_unknown=record.cause_unknown,
        feedback=record.feedback,
        strengths=record.strengths,
        goals=record.goals,
        routine=record.routine,
        support=record.support,
    )


def _safety(kind: str) -> schemas.Safety:
    """What the API says beside a reply the safety rules shaped."""
    shows_help = kind in SHOWS_RESOURCES
    resources = safety_rules().resources.model_dump(mode="json") if shows_help else None
    return schemas.Safety.model_validate({"kind": kind, "resources": resources})


def _disclosure() -> str:
    return safety_rules().disclosure.for_mode(provider().uses_model)
