"""The counselors' dashboard: shared sessions, latest activity first, with filters
(flagged, stage, active between two dates), full-text search over the transcripts,
and keyset pagination, so that a deep page costs what the first one does.

Each filter combination reads through an index that starts with `shared`
(`coach.storage.models.CoachingSession`): the order is the index's, and a page is
`LIMIT n` from a (last_activity_at, id) key. Search asks, per candidate session,
whether any of its messages matches: on PostgreSQL through the GIN full-text index
on messages (`to_tsvector('simple', content)`), on SQLite with LIKE and a function
that reads words the same way (`coach.storage.word_search`). Both find the sessions
with a message that holds every word searched for, whole, in any order and in any
case ("practice leadership" finds "leadership practice"; "kube" does not find
"Kubernetes").
`benchmarks/counsel_dashboard.py` measures it on PostgreSQL.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime, time, timedelta

from flask import Flask
from sqlalchemy import and_, exists, false, func, literal, literal_column, select, true, tuple_
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql import ColumnElement, Select

from coach.counsel import audit
from coach.counsel.pseudonyms import seeker_of
from coach.counsel.schema import DashboardFilters, SessionList, SessionSummary
from coach.errors import InvalidInput
from coach.storage.models import FULLTEXT_CONFIGURATION, CoachingSession, Message, User
from coach.storage.timestamps import in_utc
from coach.storage.word_search import HOLDS_WORD, words_of

LIKE_ESCAPE = "\\"


def find_shared_sessions(
    app: Flask, db: Session, counselor: User, filters: DashboardFilters
) -> SessionList:
    """A page of the dashboard for a counselor. A search reads the transcripts (which
    of them hold the words), so it is audited like a read: who, what, how many."""
    found = list_shared_sessions(db, filters, app.config["SECRET_KEY"])
    if filters.q:
        matched = len(found.items)
        more = " or more" if found.next_cursor else ""
        detail = f'searched "{filters.q}": {matched}{more} sessions matched'
        audit.record_read_of_many(app, counselor, "transcript_search", detail)
    return found


def list_shared_sessions(db: Session, filters: DashboardFilters, secret_key: str) -> SessionList:
    found = list(db.scalars(shared_sessions_query(db, filters)).unique())
    shown = found[: filters.per_page]
    more = len(found) > filters.per_page
    return SessionList(
        items=[_summary(s, secret_key) for s in shown],
        next_cursor=encode_cursor(shown[-1]) if more else None,
    )


def shared_sessions_query(db: Session, filters: DashboardFilters) -> Select[CoachingSession]:
    """One page and one more row (which says whether another page follows)."""
    query = (
        select(CoachingSession)
        .options(joinedload(CoachingSession.owner))
        .where(CoachingSession.shared == true())
        .order_by(CoachingSession.last_activity_at.desc(), CoachingSession.id.desc())
        .limit(filters.per_page + 1)
    )
    if filters.flagged is not None:
        query = query.where(CoachingSession.flagged == filters.flagged)
    if filters.stage is not None:
        query = query.where(CoachingSession.stage == filters.stage)
    if filters.since is not None:
        query = query.where(CoachingSession.last_activity_at >= _start_of(filters.since))
    if filters.until is not None:
        day_after = _start_of(filters.until) + timedelta(days=1)
        query = query.where(CoachingSession.last_activity_at < day_after)
    if filters.q:
        query = query.where(_transcript_matches(db, filters.q))
    if filters.cursor is not None:
        moment, session_id = decode_cursor(filters.cursor)
        # A row comparison, which both databases read as one range of the index.
        query = query.where(
            tuple_(CoachingSession.last_activity_at, CoachingSession.id)
            < tuple_(literal(moment, CoachingSession.last_activity_at.type), literal(session_id))
        )
    return query


def _transcript_matches(db: Session, words: str) -> ColumnElement[bool]:
    in_session = Message.coaching_session_id == CoachingSession.id
    matches: ColumnElement[bool]
    if db.get_bind().dialect.name == "postgresql":
        configuration: ColumnElement[str] = literal_column(FULLTEXT_CONFIGURATION)
        matches = func.to_tsvector(configuration, Message.content).bool_op("@@")(
            func.plainto_tsquery(configuration, words)
        )
    else:
        searched = words_of(words)
        matches = and_(*(_holds(w) for w in searched)) if searched else false()
    return exists().where(in_session, matches)


def _holds(word: str) -> ColumnElement[bool]:
    """On SQLite: a message holds the word whole. LIKE narrows the rows cheaply first,
    but it folds the case of ASCII letters only: a word with others ("équipe") is
    left to the function alone."""
    whole: ColumnElement[bool] = getattr(func, HOLDS_WORD)(Message.content, word) == 1
    if not word.isascii():
        return whole
    return and_(Message.content.like(f"%{_escape_like(word)}%", escape=LIKE_ESCAPE), whole)


def _escape_like(text: str) -> str:
    for special in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, LIKE_ESCAPE + special)
    return text


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _summary(coaching_session: CoachingSession, secret_key: str) -> SessionSummary:
    return SessionSummary(
        id=coaching_session.id,
        seeker=seeker_of(coaching_session, coaching_session.owner, secret_key),
        title=coaching_session.title,
        stage=coaching_session.stage,
        flags=list(coaching_session.flags),
        created_at=coaching_session.created_at,
        last_activity_at=coaching_session.last_activity_at,
    )


def encode_cursor(coaching_session: CoachingSession) -> str:
    """The key of the last session shown: where the next page starts."""
    moment = in_utc(coaching_session.last_activity_at).isoformat()
    raw = f"{moment}|{coaching_session.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment_text, _, id_text = raw.rpartition("|")
        moment = datetime.fromisoformat(moment_text)
        session_id = int(id_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("cursor is not one this API gave out.", code="invalid_cursor") from None
    if moment.tzinfo is None:
        raise InvalidInput("cursor is not one this API gave out.", code="invalid_cursor")
    return moment, session_id
