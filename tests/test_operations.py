"""What an operator relies on: request ids and the access log, logs without
secrets, `/livez` and `/readyz`, the limits through a Redis outage, Prometheus
metrics, and keep-alive comments on a stream that is slow to open."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
from flask import Flask

from coach import resources
from coach.coaching.background import background
from coach.logs import JsonFormatter, RequestIdFilter, TextFormatter, hide_secrets_of
from tests.conftest import ApiActions, AppFactory, make_openai_app
from tests.fake_model import FakeModel
from tests.openapi_check import parse_events

# Nothing listens on port 1: connections to it are refused at once.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
METRICS_TOKEN = "scrape-me-please"
CRISIS = "honestly sometimes I think everyone would be better off without me"


# Request ids and the access log -------------------------------------------------


def test_a_request_keeps_the_id_it_came_with_and_gets_one_otherwise(client) -> None:
    kept = client.get("/livez", headers={"X-Request-ID": "lb-7f3a.42"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a.42"
    made = client.get("/livez")
    forged = client.get("/livez", headers={"X-Request-ID": "x level=ERROR fake line"})
    for response in (made, forged):
        assert len(response.headers["X-Request-ID"]) == 32  # a fresh uuid4, in hex
    assert made.headers["X-Request-ID"] != forged.headers["X-Request-ID"]


def test_the_access_log_names_the_request_but_no_secret(
    client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="coach.access")
    response = client.get(
        "/api/v1/sessions?token=in-the-query",
        headers={"Authorization": "Bearer not-a-real-token", "X-Request-ID": "req-1"},
    )
    assert response.status_code == 401
    response.close()  # the line is written once the response is done, as a server does
    (line,) = [r for r in caplog.records if r.name == "coach.access"]
    assert line.request_id == "req-1"
    assert line.getMessage().startswith("GET /api/v1/sessions 401 ")
    assert "in-the-query" not in line.getMessage()
    assert "not-a-real-token" not in line.getMessage()


def _record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError("bearer abc.def-ghi broke it")
        except RuntimeError as error:
            exc_info = (type(error), error, error.__traceback__)
    record = logging.LogRecord("coach.test", logging.WARNING, __file__, 1, message, args, exc_info)
    RequestIdFilter().filter(record)
    return record


def test_log_lines_carry_time_level_logger_and_request_id_as_text_or_json() -> None:
    text = TextFormatter().format(_record("the database is %s", "slow"))
    assert text.endswith(" WARNING coach.test [-] the database is slow")
    assert text[:20].endswith("Z") and text[10] == "T"  # 2026-11-28T15:00:00Z
    line = json.loads(JsonFormatter().format(_record("the database is %s", "slow")))
    assert line["level"] == "WARNING"
    assert line["logger"] == "coach.test"
    assert line["request_id"] == "-"
    assert line["message"] == "the database is slow"
    assert line["time"].endswith("Z")


def test_secrets_never_reach_a_log_line() -> None:
    hide_secrets_of(
        {
            "OPENAI_API_KEY": "sk-very-secret-key",
            "COACH_DATABASE_URL": "postgresql+psycopg://coach:db-password-9@db/coach",
        }
    )
    message = "calling with sk-very-secret-key at postgresql+psycopg://coach:db-password-9@db"
    for formatter in (TextFormatter(), JsonFormatter()):
        shown = formatter.format(_record(message))
        assert "sk-very-secret-key" not in shown
        assert "db-password-9" not in shown
        with_traceback = formatter.format(_record("failed", exc=True))
        assert "abc.def-ghi" not in with_traceback
        assert "[hidden]" in with_traceback


# Liveness and readiness --------------------------------------------------------


def test_livez_and_readyz_answer_when_all_is_well(client) -> None:
    assert client.get("/livez").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {
        "status": "ready",
        "checks": {
            "database": "ok",
            "redis": "not_configured",
            "prompts": "ok",
            "templates": "ok",
        },
    }


@pytest.fixture
def own_prompts(tmp_path: Path) -> Path:
    """A copy of the shipped prompts that a test may break."""
    folder = tmp_path / "prompts"
    shutil.copytree(resources.resource_dir("prompts"), folder)
    return folder


@pytest.mark.parametrize(
    "breakage",
    [
        lambda folder: (folder / "templates" / "system.j2").unlink(),
        lambda folder: (folder / "templates" / "persona.j2").write_text("{% if %}"),
        lambda folder: (folder / "frameworks" / "emotions.toml").write_text("stage = ["),
    ],
    ids=["a template gone", "a template broken", "a framework broken"],
)
def test_readyz_fails_when_the_prompts_cannot_load(
    app_factory: AppFactory, own_prompts: Path, breakage
) -> None:
    app = app_factory(COACH_PROMPTS_DIR=str(own_prompts))
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    breakage(own_prompts)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json["status"] == "not_ready"
    assert answer.json["checks"]["prompts"] == "failed"
    assert answer.json["checks"]["database"] == "ok"
    # Liveness does not depend on it: the process is fine, the deploy is not.
    assert client.get("/livez").status_code == 200


# Redis down ----------------------------------------------------------------------


def test_with_redis_unreachable_limits_count_in_memory_with_a_warning(
    app_factory: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_factory(
        RATELIMIT_ENABLED=True, COACH_REDIS_URL=UNREACHABLE_REDIS, COACH_GUEST_LIMIT="2 per hour"
    )
    client = app.test_client()
    statuses = [client.post("/api/v1/auth/guest").status_code for _ in range(3)]
    # Guests are still created, and the limit still holds (counted in memory).
    assert statuses == [201, 201, 429]
    assert any(
        record.levelno == logging.WARNING and "in-memory" in record.getMessage()
        for record in caplog.records
    )
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["status"] == "degraded"
    assert ready.json["checks"]["redis"] == "failed"


# Metrics -------------------------------------------------------------------------


def _scrape(app: Flask) -> dict[str, float]:
    response = app.test_client().get(
        "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert response.status_code == 200
    samples = {}
    for line in response.get_data(as_text=True).splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_metrics_are_served_only_to_the_scraper_with_the_token(app_factory: AppFactory) -> None:
    closed = app_factory().test_client()
    assert closed.get("/metrics").status_code == 404
    guarded = app_factory(COACH_METRICS_TOKEN=METRICS_TOKEN).test_client()
    assert guarded.get("/metrics").status_code == 401
    wrong = guarded.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    right = guarded.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert right.status_code == 200
    assert right.mimetype == "text/plain"


def test_metrics_count_turns_replies_model_latency_tokens_and_crisis_referrals(
    app_factory: AppFactory, fake_model: FakeModel
) -> None:
    app = make_openai_app(app_factory, fake_model, COACH_METRICS_TOKEN=METRICS_TOKEN)
    api = ApiActions(app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    fake_model.enqueue_stream(["That sounds hard. ", "How are you?"], usage=(120, 7))
    fake_model.enqueue_json(json.dumps({}))  # the record's reading; its content is not counted
    first = api.send(token, session_id, "They said no after the second interview.")
    assert first.status_code == 201
    background(app).wait_idle()
    fake_model.enqueue_broken_stream(["Half a "])
    # Streamed, so that what came before the break is kept (partial).
    api.send_streaming(token, session_id, "Why would they do that?")
    assert api.send(token, session_id, CRISIS).status_code == 201
    background(app).wait_idle()

    samples = _scrape(app)
    assert samples['coach_turns_total{kind="message"}'] == 3
    assert samples['coach_replies_total{provider="openai",status="complete"}'] == 2
    assert samples['coach_replies_total{provider="openai",status="partial"}'] == 1
    assert samples["coach_crisis_referrals_total"] == 1
    assert samples['coach_model_tokens_total{kind="prompt"}'] >= 120
    assert samples['coach_model_tokens_total{kind="completion"}'] >= 7
    # The two replies the model wrote were timed; the crisis reply (fixed words) was not.
    assert samples['coach_model_reply_seconds_count{provider="openai"}'] == 2


# A stream that is slow to open -----------------------------------------------------


def test_a_stream_slow_to_open_sends_keep_alive_comments(
    app_factory: AppFactory, fake_model: FakeModel
) -> None:
    app = make_openai_app(app_factory, fake_model, COACH_SSE_KEEPALIVE_SECONDS=0.1)
    api = ApiActions(app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    # The model waits half a second before each of its two chunks.
    fake_model.enqueue_stream(["Take your ", "time."], delay=0.5)
    fake_model.enqueue_json(json.dumps({}))
    response = api.client.post(
        f"/api/v1/sessions/{session_id}/messages",
        headers=api.headers(token, Accept="text/event-stream"),
        json={"content": "I did not get the job."},
    )
    body = response.get_data(as_text=True)
    background(app).wait_idle()
    blocks = body.strip().split("\n\n")
    first_delta = next(i for i, block in enumerate(blocks) if block.startswith("event: delta"))
    # Comments came while the model had not said a word, between the seeker's
    # stored message and the first delta; the events themselves are untouched.
    assert ": keep-alive" in blocks[1:first_delta]
    names = [name for name, _ in parse_events(body)]
    assert names[0] == "message" and names[-1] == "done" and "delta" in names
