"""The counselors' dashboard on PostgreSQL at scale: 100,000 sessions and 2 million
messages (with `--small`, 2,000 and 40,000, for CI).

Creates a database of its own on the server (dropped afterwards unless `--keep`),
brings it to the newest schema, fills it in bulk inside the server
(generate_series: a tenth of the sessions shared, 2 % of those flagged, twenty
messages each, one word in one message in a thousand, another in five messages), and then times the
queries the dashboard makes: the first page, the flagged filter, a stage and date
filter, searches for a common, a less common and a very rare word, and a page deep in the list
(from a keyset cursor), each the median of several runs. For each it prints the
plan from EXPLAIN (ANALYZE, BUFFERS), so that anyone can see which index it reads.

    python benchmarks/counsel_dashboard.py [--small] [--server postgresql+psycopg://root@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import date
from typing import Any

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from coach import create_app
from coach.counsel.dashboard import encode_cursor, shared_sessions_query
from coach.counsel.schema import DashboardFilters
from coach.storage.database import database, upgrade_schema
from coach.storage.models import CoachingSession

RUNS = 7
MESSAGES_PER_SESSION = 20
SEEKERS_PER_SESSION = 5  # a seeker has five sessions on average
SHARED_EVERY = 10
DEFAULT_SERVER = "postgresql+psycopg://root@127.0.0.1:5432/postgres"

FILL = [
    # Seekers: guests, as most are.
    """INSERT INTO users (id, role, is_guest, created_at)
       SELECT g, 'seeker', true, now() - interval '400 days'
       FROM generate_series(1, %(seekers)s) g""",
    # Sessions: activity spread over a year; a tenth shared; 2 % of those flagged.
    """INSERT INTO coaching_sessions
         (id, owner_id, title, stage, stage_turns, shared, show_name, flags, flagged, summary,
          summary_through_id, reflection, reply_cancel_requested, refined_through_id,
          created_at, updated_at, last_activity_at)
       SELECT g, 1 + (g %% %(seekers)s), 'After the second interview ' || g,
              (ARRAY['emotions','causes','improvement','resilience','plan'])[1 + (g / 10) %% 5], 0,
              g %% %(shared_every)s = 0, false,
              CASE WHEN g %% 500 = 0 THEN '["crisis"]'::json ELSE '[]'::json END,
              g %% 500 = 0, '', 0, '{}'::json, false, 0,
              now() - (g * interval '5 minutes') - interval '1 day',
              now() - (g * interval '5 minutes'),
              now() - (((g * 7919) %% %(sessions)s) * interval '5 minutes')
       FROM generate_series(1, %(sessions)s) g""",
    # Messages: twenty a session, words from a small vocabulary, a rare word now and then.
    """INSERT INTO messages
         (id, coaching_session_id, role, content, stage, status, discloses, created_at)
       SELECT g, 1 + (g - 1) / %(per_session)s,
              CASE WHEN g %% 2 = 0 THEN 'assistant' ELSE 'user' END,
              (ARRAY['I felt the interview went well but they chose someone else',
                     'It sounds like you are disappointed after getting so close',
                     'The recruiter said my portfolio was thinner than the others',
                     'What would you like to focus on first',
                     'I keep thinking about the second interview and the panel'])[1 + g %% 5]
              || ' ' || md5(g::text)
              || CASE WHEN g %% 1000 = 0 THEN ' kubernetes' ELSE '' END
              || CASE WHEN g %% %(very_rare_every)s = 0 THEN ' haskell' ELSE '' END,
              'emotions', 'complete', false,
              now() - (g * interval '1 second')
       FROM generate_series(1, %(messages)s) g""",
    "SELECT setval('users_id_seq', (SELECT max(id) FROM users))",
    "SELECT setval('coaching_sessions_id_seq', (SELECT max(id) FROM coaching_sessions))",
    "SELECT setval('messages_id_seq', (SELECT max(id) FROM messages))",
    "ANALYZE",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="2,000 sessions, for CI")
    parser.add_argument(
        "--server",
        default=os.environ.get("COACH_TEST_POSTGRES_URL", DEFAULT_SERVER),
        help="a PostgreSQL server URL; a database of its own is made there",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    arguments = parser.parse_args()
    sessions = 2_000 if arguments.small else 100_000
    server = make_url(arguments.server)
    name = f"coach_bench_{uuid.uuid4().hex[:10]}"
    admin_dsn = server.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        url = server.set(database=name).render_as_string(hide_password=False)
        run(url, sessions)
    finally:
        if not arguments.keep:
            with psycopg.connect(admin_dsn, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(url: str, sessions: int) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "benchmark",
            "COACH_DATABASE_URL": url,
            "COACH_PROVIDER": "guided",
        }
    )
    upgrade_schema(app)
    db = database(app)
    sizes = {
        "seekers": sessions // SEEKERS_PER_SESSION,
        "sessions": sessions,
        "messages": sessions * MESSAGES_PER_SESSION,
        "per_session": MESSAGES_PER_SESSION,
        "shared_every": SHARED_EVERY,
        # Five messages in all, each in a shared session.
        "very_rare_every": sessions * MESSAGES_PER_SESSION // 5,
    }
    started = time.perf_counter()
    with db.engine.begin() as connection:
        for statement in FILL:
            connection.exec_driver_sql(statement, sizes if "%(" in statement else None)
    print(
        f"{sessions:,} sessions ({sessions // SHARED_EVERY:,} shared),"
        f" {sizes['messages']:,} messages: filled in {time.perf_counter() - started:.1f} s\n"
    )
    with db.make_session() as session:
        deep = session.scalars(
            select(CoachingSession)
            .where(CoachingSession.shared.is_(True))
            .order_by(CoachingSession.last_activity_at.desc(), CoachingSession.id.desc())
            .offset(sessions // SHARED_EVERY * 3 // 4)
            .limit(1)
        ).one()
        cursor = encode_cursor(deep)
        total = session.scalar(select(func.count()).select_from(CoachingSession))
    assert total == sessions
    cases: dict[str, dict[str, Any]] = {
        "first page": {},
        "flagged": {"flagged": True},
        "stage and dates": {
            "stage": "causes",
            "since": date.today().replace(day=1, month=1),
            "until": date.today(),
        },
        "search, a word in 1 of 5 shared sessions": {"q": "kubernetes"},
        "search, a word in 5 sessions": {"q": "haskell"},
        "search, common word": {"q": "recruiter"},
        "deep page (3/4 down)": {"cursor": cursor},
    }
    for label, values in cases.items():
        measure(db, label, DashboardFilters(per_page=20, **values))


def measure(db: Any, label: str, filters: DashboardFilters) -> None:
    timings = []
    with db.make_session() as session:
        query = shared_sessions_query(session, filters)
        for _ in range(RUNS):
            started = time.perf_counter()
            found = list(session.scalars(query).unique())
            timings.append((time.perf_counter() - started) * 1000)
            session.rollback()
        compiled = query.compile(dialect=session.get_bind().dialect)
        plan = session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), compiled.params
        )
        lines = [row[0] for row in plan]
    print(
        f"== {label}: {len(found)} rows, median {statistics.median(timings):.2f} ms"
        f" (min {min(timings):.2f}, max {max(timings):.2f}) over {RUNS} runs"
    )
    for line in lines:
        print("   " + line)
    print()


if __name__ == "__main__":
    main()
