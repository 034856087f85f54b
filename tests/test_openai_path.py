"""The `openai` provider over real HTTP, against the scripted local server in `fake_model`.

Each test scripts the server's answers in order. A complete reply is followed by a
second, non-streamed request from the background (the reflection record as
structured output), so tests that complete a reply also enqueue its JSON answer and
wait for the background work before counting requests.
"""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from coach.coaching.background import background
from coach.coaching.keyword_rules import keyword_rules
from coach.coaching.proposals import named_entries
from coach.guide.frameworks import frameworks
from coach.guide.record import ReflectionRecord
from coach.storage.database import database
from coach.storage.models import CoachingSession, Message
from tests.conftest import API_KEY, ApiActions, AppFactory, make_openai_app
from tests.fake_model import FakeModel
from tests.openapi_check import parse_events

EMPTY_RECORD = json.dumps(ReflectionRecord().model_dump(mode="json"))
PROVIDER_LOGGER = "coach.providers.openai_chat"


@pytest.fixture
def app(fake_model: FakeModel, app_factory: AppFactory) -> Flask:
    # fake_model comes first so that it outlives the app's background work.
    return make_openai_app(app_factory, fake_model)


@pytest.fixture
def seeker(api: ApiActions) -> tuple[str, int]:
    """A guest's token and a fresh session of theirs."""
    token = api.guest()
    return token, api.new_session(token)


def settle(app: Flask) -> None:
    """Let the background reflection request finish before counting requests."""
    background(app).wait_idle()


def read_toml(app: Flask, relative: str) -> dict[str, Any]:
    path = Path(app.config["COACH_PROMPTS_DIR"]) / relative
    return tomllib.loads(path.read_text("utf-8"))


def stored_message(app: Flask, message_id: int) -> Message:
    with database(app).make_session() as db:
        return db.get_one(Message, message_id)


def stored_record(app: Flask, session_id: int) -> ReflectionRecord:
    with database(app).make_session() as db:
        reflection = db.get_one(CoachingSession, session_id).reflection
    return ReflectionRecord.model_validate(reflection)


def stored_proposals(app: Flask, session_id: int) -> ReflectionRecord:
    """What the dialogue proposed on the last turn and waits for the seeker to confirm."""
    with database(app).make_session() as db:
        pending = db.get_one(CoachingSession, session_id).pending or {}
    return ReflectionRecord.model_validate((pending.get("move") or {}).get("proposed", {}))


def named_by_seeker(app: Flask, *texts: str) -> ReflectionRecord:
    """The feelings and causes the seeker named by their labels: recorded at once."""
    named = ReflectionRecord()
    for text in texts:
        named = named.merge(named_entries(text, frameworks(app)))
    return named


def post_retry(api: ApiActions, token: str, session_id: int, **headers: str) -> Any:
    return api.client.post(
        f"/api/v1/sessions/{session_id}/retry", headers=api.headers(token, **headers)
    )


def provider_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == PROVIDER_LOGGER and r.levelno == logging.WARNING
    ]


# The prompt the model is shown ---------------------------------------------------------


def test_system_prompt_carries_the_current_stage_framework(
    app: Flask, api: ApiActions, seeker: tuple[str, int], fake_model: FakeModel
) -> None:
    token, session_id = seeker
    emotions = read_toml(app, "frameworks/emotions.toml")
    improvement = read_toml(app, "frameworks/improvement.toml")
    strategies = read_toml(app, "strategies.toml")["strategies"]
    reactions = next(s for s in emotions["sections"] if s["key"] == "reactions")["items"]

    fake_model.enqueue_stream(["That sounds hard. ", "How are you feeling?"])
    fake_model.enqueue_json(EMPTY_RECORD)
    first_text = "The rejection email came this morning."
    assert api.send_streaming(token, session_id, first_text)[-1][0] == "done"
    settle(app)

    first = fake_model.reply_requests[0].messages
    assert first[0]["role"] == "system"
    assert emotions["coach_focus"].strip() in first[0]["content"]
    for reaction in reactions:
        assert reaction["name"] in first[0]["content"]
    assert first[-1] == {"role": "user", "content": first_text}

    response = api.client.patch(
        f"/api/v1/sessions/{session_id}",
        headers=api.headers(token),
        json={"stage": "improvement"},
    )
    assert response.status_code == 200, response.json
    fake_model.enqueue_stream(["Let's pick a first goal."])
    fake_model.enqueue_json(EMPTY_RECORD)
    second_text = "Where could I start?"
    assert api.send_streaming(token, session_id, second_text)[-1][0] == "done"
    settle(app)

    second = fake_model.reply_requests[1].messages
    system = second[0]
    assert system["role"] == "system"
    assert improvement["coach_focus"].strip() in system["content"]
    assert emotions["coach_focus"].strip() not in system["content"]
    # No cause is known yet: only the strategies for an unknown cause are offered.
    unknown = set(read_toml(app, "strategies.toml")["causes"]["unknown"]["strategies"])
    for key, strategy in strategies.items():
        offered = f"- {strategy['name']}: {strategy['how']}" in system["content"]
        assert offered == (key in unknown), key
    assert [m for m in second if m["role"] == "user"][-1]["content"] == second_text
    assert second[-1] == {"role": "user", "content": second_text}
    assert second[1:3] == [
        {"role": "user", "content": first_text},
        {"role": "assistant", "content": "That sounds hard. How are you feeling?"},
    ]


# Streaming ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chunks",
    [
        ["Hello", " there", ", how are ", "you feeling?"],
        ["One piece only."],
        ["Ça ", "fait ", "mal — ", "I hear you ✓"],
    ],
)
def test_streamed_deltas_arrive_in_order_and_the_reply_is_stored(
    app: Flask,
    api: ApiActions,
    seeker: tuple[str, int],
    fake_model: FakeModel,
    chunks: list[str],
) -> None:
    token, session_id = seeker
    fake_model.enqueue_stream(chunks, usage=(123, 45), model="fake-model-2025-01")
    fake_model.enqueue_json(EMPTY_RECORD)

    events = api.send_streaming(token, session_id, "They said no after the second interview.")
    settle(app)

    names = [name for name, _ in events]
    assert names[0] == "message" and names[-1] == "done"
    assert set(names[1:-1]) == {"delta"}
    # The output guard shows whole sentences: the deltas are the chunks regrouped,
    # in order, with nothing lost or added.
    assert "".join(data["text"] for name, data in events if name == "delta") == "".join(chunks)
    reply = events[-1][1]["reply"]
    assert reply["content"] == "".join(chunks)
    assert reply["status"] == "complete"

    shown = api.session(token, session_id)["messages"]
    assert [(m["role"], m["status"]) for m in shown] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert shown[-1]["content"] == "".join(chunks)

    stored = stored_message(app, reply["id"])
    assert (stored.prompt_tokens, stored.completion_tokens) == (123, 45)
    assert stored.model == "fake-model-2025-01"  # as the server named it
    assert isinstance(stored.latency_ms, int)
    assert stored.latency_ms >= 0
    assert fake_model.reply_requests[0].body["stream_options"] == {"include_usage": True}


def test_json_api_asks_the_model_for_the_whole_reply(
    app: Flask, api: ApiActions, seeker: tuple[str, int], fake_model: FakeModel
) -> None:
    token, session_id = seeker
    fake_model.enqueue_json("It makes sense to feel let down.", usage=(321, 9))
    fake_model.enqueue_json(EMPTY_RECORD)

    response = api.send(token, session_id, "I'm gutted.")
    settle(app)

    assert response.status_code == 201, response.json
    assert response.json["user_message"]["content"] == "I'm gutted."
    assert response.json["reply"]["content"] == "It makes sense to feel let down."
    assert response.json["reply"]["status"] == "complete"
    [request] = fake_model.reply_requests
    # Nobody reads a JSON turn's reply before its end: it is not streamed.
    assert "stream" not in request.body
    assert request.messages[-1] == {"role": "user", "content": "I'm gutted."}
    reply = stored_message(app, response.json["reply"]["id"])
    assert (reply.prompt_tokens, reply.completion_tokens) == (321, 9)


def test_a_json_turn_whose_connection_drops_before_the_answer_is_asked_again(
    app: Flask, api: ApiActions, seeker: tuple[str, int], fake_model: FakeModel
) -> None:
    token, session_id = seeker
    fake_model.enqueue_broken_stream(["Lost ", "words"])
    fake_model.enqueue_json("That sounds disappointing.")
    fake_model.enqueue_json(EMPTY_RECORD)

    response = api.send(token, session_id, "They said no.")
    settle(app)

    # Nothing was shown, so nothing can be repeated: the request is made again.
    assert response.status_code == 201, response.json
    assert response.json["reply"]["content"] == "That sounds disappointing."
    assert len(fake_model.reply_requests) == 2


def test_a_whole_reply_without_a_finish_reason_is_not_kept_and_retry_is_offered(
    app: Flask, api: ApiActions, seeker: tuple[str, int], fake_model: FakeModel
) -> None:
    token, session_id = seeker
    fake_model.enqueue_json("That sounds hard. What did the", finish_reason=None)

    response = api.send(token, session_id, "They went with someone else.")

    assert response.status_code == 502
    assert response.json["error"]["code"] == "reply_interrupted"
    session = api.session(token, session_id)
    assert session["retry_offered"] is True
    # The cut text is not kept, not even as partial: nothing of it was shown.
    assert [(m["role"], m["status"], m["content"]) for m in session["messages"]] == [
        ("user", "complete", "They went with someone else."),
        ("assistant", "failed", ""),
    ]


@pytest.mark.parametrize(("seconds_a_chunk", "answered"), [(0.3, True), (1.5, False)])
def test_a_whole_reply_may_take_the_time_its_tokens_need(
    app_factory: AppFactory, fake_model: FakeModel, seconds_a_chunk: float, answered: bool
) -> None:
    # 0.2 s to open a reply, and 10 tokens at no less than 10 a second: 1.2 s in all.
    app = make_openai_app(
        app_factory,
        fake_model,
        COACH_MODEL_TIMEOUT=0.2,
        COACH_MAX_REPLY_TOKENS=10,
        COACH_MODEL_ATTEMPTS=1,
    )
    api = ApiActions(app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    fake_model.enqueue_stream(["Take ", "your time."], delay=seconds_a_chunk)
    fake_model.enqueue_json(EMPTY_RECORD)

    response = api.send(token, session_id, "They said no.")
    settle(app)

    if answered:  # in 0.6 s: past the opening's 0.2 s, within the whole reply's time
        assert response.status_code == 201, response.json
        assert response.json["reply"]["content"] == "Take your time."
    else:  # in 3 s: too slow
        assert response.status_code == 502
        assert response.json["error"]["code"] == "model_unavailable"


@pytest.mark.parametrize("configured", [None, 120])
def test_the_reply_is_bounded_by_max_tokens(
    app_factory: AppFactory, fake_model: FakeModel, configured: int | None
) -> None:
    settings = {} if configured is None else {"COACH_MAX_REPLY_TOKENS": configured}
    app = make_openai_app(app_factory, fake_model, **settings)
    api = ApiActions(app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    fake_model.enqueue_stream(["Short and kind."])
    fake_model.enqueue_json(EMPTY_RECORD)

    assert api.send(token, session_id, "They said no.").status_code == 201
    settle(app)

    [request] = fake_model.reply_requests
    assert request.body["max_tokens"] == (configured or 400)


def test_json_api_reply_also_refines_the_reflection_record(
    app: Flask, api: ApiActions, seeker: tuple[str, int], fake_model: FakeModel
) -> None:
    token, session_id = seeker
    fake_model.enqueue_stream(["I hear you."])
    fake_model.enqueue_json(json.dumps({"emotions": ["embarrassed"]}))

    assert api.send(token, session_id, "They went with someone else.").status_code == 201
    settle(app)

    assert len(fake_model.reflection_requests) == 1
    assert "embarrassed" in stored_record(app, session_id).emotions


# Retries ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_a_transient_error_is_retried_and_the_reply_completes(
    app: Flask, api: ApiActions, seeker: tuple[str, int], fake_model: FakeModel, status: int
) -> None:
    token, session_id = seeker
    fake_model.enqueue_error(status)
    fake_model.enqueue_stream(["Second ", "time lucky."])
    fake_model.enqueue_json(EMPTY_RECORD)

    response = api.send(token, session_id, "They turned me down.")
    settle(app)

    assert response.status_code == 201, response.json
    assert response.json["reply"]["status"] == "complete"
    assert response.json["reply"]["content"] == "Second time lucky."
    assert len(fake_model.reply_requests) == 2
    # Each attempt is the client's first: tenacity retried, not the client.
    assert [r.retry_count for r in fake_model.reply_requests] == ["0", "0"]


@pytest.mark.parametrize("attempts", [1, 3])
def test_retries_stop_after_the_configured_attempts(
    app_factory: AppFactory, fake_model: FakeModel, attempts: int
) -> None:
    app = make_openai_app(app_factory, fake_model, COACH_MODEL_ATTEMPTS=attempts)
    api = ApiActions(app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    for _ in range(attempts):
        fake_model.enqueue_error(503)
    fake_model.enqueue_stream(["One attempt too many."])  # must stay unused

    response = api.send(token, session_id, "They said no.")

    assert response.status_code == 502
    assert response.json["error"]["code"] == "model_unavailable"
    assert len(fake_model.requests) == attempts
    assert {r.retry_count for r in fake_model.requests} == {"0"}
    assert fake_model.pending == 1


# Failures -----------------------------------------------------------------------------


def test_a_stream_that_ends_without_a_finish_reason_is_partial_and_retry_is_offered(
    app: Flask, api: ApiActions, seeker: tuple[str, int], fake_model: FakeModel
) -> None:
    token, session_id = seeker
    fake_model.enqueue_cut_stream(["That sounds hard. ", "What did the"])

    events = api.send_streaming(token, session_id, "They went with someone else.")

    error = events[-1][1]
    assert events[-1][0] == "error"
    assert error["retryable"] is True
    assert error["reply"]["status"] == "partial"
    session = api.session(token, session_id)
    assert session["retry_offered"] is True
    assert [m["status"] for m in session["messages"]] == ["complete", "partial"]


def test_a_broken_stream_leaves_a_partial_reply_that_retry_completes(
    app: Flask, api: ApiActions, seeker: tuple[str, int], fake_model: FakeModel
) -> None:
    token, session_id = seeker
    text = "I was so close to getting it."
    fake_model.enqueue_broken_stream(["Hello ", "there"])

    events = api.send_streaming(token, session_id, text)

    # The unfinished sentence was held back by the output guard until the break,
    # then checked and kept.
    assert [name for name, _ in events] == ["message", "delta", "error"]
    assert [data["text"] for name, data in events if name == "delta"] == ["Hello there"]
    error = events[-1][1]
    assert error["retryable"] is True
    assert error["error"]["code"] == "reply_interrupted"
    assert error["reply"]["status"] == "partial"
    assert error["reply"]["content"] == "Hello there"
    assert len(fake_model.requests) == 1  # a stream that broke off is not retried by itself
    shown = api.session(token, session_id)["messages"]
    assert [(m["role"], m["status"], m["content"]) for m in shown] == [
        ("user", "complete", text),
        ("assistant", "partial", "Hello there"),
    ]

    fake_model.enqueue_stream(["Hello there, ", "that sounds painful."])
    fake_model.enqueue_json(EMPTY_RECORD)
    response = post_retry(api, token, session_id)
    settle(app)

    assert response.status_code == 201, response.json
    assert response.json["reply"]["status"] == "complete"
    assert response.json["reply"]["content"] == "Hello there, that sounds painful."
    shown = api.session(token, session_id)["messages"]
    assert [(m["role"], m["status"]) for m in shown] == [
        ("user", "complete"),
        ("assistant", "partial"),
        ("assistant", "complete"),
    ]
    retried = fake_model.reply_requests[1].messages
    assert retried[-1] == {"role": "user", "content": text}
    assert all(m["content"] != "Hello there" for m in retried)  # the partial is not history


def test_a_rejected_key_is_not_retried_and_says_what_to_check(
    app: Flask, api: ApiActions, seeker: tuple[str, int], fake_model: FakeModel
) -> None:
    token, session_id = seeker
    fake_model.enqueue_error(401, "Incorrect API key provided.")

    response = api.send(token, session_id, "They picked someone else.")

    assert response.status_code == 502
    assert response.json["error"]["code"] == "model_auth_failed"
    assert "OPENAI_API_KEY" in response.json["error"]["message"]
    assert len(fake_model.requests) == 1
    assert fake_model.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    shown = api.session(token, session_id)["messages"]
    assert [(m["role"], m["status"], m["content"]) for m in shown] == [
        ("user", "complete", "They picked someone else."),
        ("assistant", "failed", ""),
    ]


def test_a_rejected_key_over_sse_is_an_error_event_that_is_not_retryable(
    app: Flask, api: ApiActions, seeker: tuple[str, int], fake_model: FakeModel
) -> None:
    token, session_id = seeker
    fake_model.enqueue_error(401)

    events = api.send_streaming(token, session_id, "They picked someone else.")

    assert [name for name, _ in events] == ["message", "error"]
    error = events[-1][1]
    assert error["retryable"] is False
    assert error["error"]["code"] == "model_auth_failed"
    assert error["reply"]["status"] == "failed"
    assert len(fake_model.requests) == 1


@pytest.mark.parametrize(
    ("script", "code", "retryable"),
    [
        pytest.param([401], "model_auth_failed", False, id="401"),
        pytest.param([400], "model_unavailable", False, id="400"),
        pytest.param([503, 503, 503], "model_unavailable", True, id="503x3"),
        pytest.param(["broken"], "model_unavailable", True, id="dropped-before-text"),
    ],
)
def test_the_seekers_message_is_kept_when_the_model_fails(
    app: Flask,
    api: ApiActions,
    seeker: tuple[str, int],
    fake_model: FakeModel,
    script: list[int | str],
    code: str,
    retryable: bool,
) -> None:
    token, session_id = seeker
    for step in script:
        if step == "broken":
            fake_model.enqueue_broken_stream([])
        else:
            fake_model.enqueue_error(int(step))
    text = "I really wanted that job."

    events = api.send_streaming(token, session_id, text)

    assert events[0][1]["message"]["content"] == text
    assert events[-1][0] == "error"
    assert events[-1][1]["error"]["code"] == code
    assert events[-1][1]["retryable"] is retryable
    assert len(fake_model.requests) == len(script)
    shown = api.session(token, session_id)["messages"]
    assert [(m["role"], m["status"], m["content"]) for m in shown] == [
        ("user", "complete", text),
        ("assistant", "failed", ""),
    ]


# The reflection record as structured output -------------------------------------------


def test_reflection_request_uses_a_json_schema_and_its_answer_is_merged(
    app: Flask, api: ApiActions, seeker: tuple[str, int], fake_model: FakeModel
) -> None:
    token, session_id = seeker
    text = "I'm so disappointed. They hired an internal candidate instead of me."
    from_model = {
        "emotions": ["embarrassed"],
        "likely_causes": [{"cause": "competition", "evidence": "they hired an internal candidate"}],
        "strengths": ["made it to the final round"],
    }
    fake_model.enqueue_stream(["That is a hard one to hear."])
    fake_model.enqueue_json(json.dumps(from_model))

    events = api.send_streaming(token, session_id, text)
    settle(app)

    assert events[-1][0] == "done"
    [request] = fake_model.reflection_requests
    assert not request.streamed
    assert request.body["response_format"]["type"] == "json_schema"
    schema = request.body["response_format"]["json_schema"]["schema"]
    assert set(ReflectionRecord.model_fields) <= set(schema["properties"])
    assert request.messages[0]["role"] == "system"
    assert text in request.messages[-1]["content"]
    assert "That is a hard one to hear." in request.messages[-1]["content"]

    rules = keyword_rules(app).read(text)
    assert rules.emotions, "the keyword rules should find something in this message"
    assert "embarrassed" not in rules.emotions
    record = stored_record(app, session_id)
    # The rules only propose; the record holds what the seeker named and the model's reading.
    assert record == named_by_seeker(app, text).merge(ReflectionRecord.model_validate(from_model))
    assert "embarrassed" in record.emotions
    assert "competition" in [c.cause for c in stored_proposals(app, session_id).likely_causes]
    assert {"cause": "competition", "evidence": "they hired an internal candidate"} in [
        c.model_dump() for c in record.likely_causes
    ]


@pytest.mark.parametrize(
    "bad_answers",
    [
        pytest.param(["not JSON at all", "{still not JSON"], id="not-json"),
        pytest.param(['{"emotions": "sad"}', '{"mood": ["sad"]}'], id="wrong-shape"),
    ],
)
def test_reflection_falls_back_to_the_keyword_rules_after_two_bad_answers(
    app: Flask,
    api: ApiActions,
    seeker: tuple[str, int],
    fake_model: FakeModel,
    caplog: pytest.LogCaptureFixture,
    bad_answers: list[str],
) -> None:
    token, session_id = seeker
    text = "I feel crushed and angry about it."
    fake_model.enqueue_stream(["I hear how hard this is."])
    for answer in bad_answers:
        fake_model.enqueue_json(answer)

    caplog.set_level(logging.WARNING, logger=PROVIDER_LOGGER)
    assert api.send_streaming(token, session_id, text)[-1][0] == "done"
    settle(app)

    first, repair = fake_model.reflection_requests
    assert repair.messages[:-2] == first.messages
    assert repair.messages[-2] == {"role": "assistant", "content": bad_answers[0]}
    assert "did not fit the schema" in repair.messages[-1]["content"]
    rules = keyword_rules(app).read(text)
    assert rules.emotions
    # Without the model's reading, the rules' guesses wait for the seeker to confirm them.
    assert stored_record(app, session_id) == named_by_seeker(app, text)
    assert "disappointment" in stored_proposals(app, session_id).emotions
    assert len(provider_warnings(caplog)) == 1

    # The chat goes on; the same failure again is not logged again.
    fake_model.enqueue_stream(["What happened next?"])
    for answer in bad_answers:
        fake_model.enqueue_json(answer)
    later = "I keep replaying the interview and feel embarrassed."
    events = api.send_streaming(token, session_id, later)
    settle(app)

    assert events[-1][0] == "done"
    assert events[-1][1]["reply"]["content"] == "What happened next?"
    assert len(fake_model.reflection_requests) == 4
    assert len(provider_warnings(caplog)) == 1
    assert stored_record(app, session_id) == named_by_seeker(app, text, later)


def test_a_server_without_json_schemas_is_asked_once_and_logged_once(
    app: Flask,
    api: ApiActions,
    seeker: tuple[str, int],
    fake_model: FakeModel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token, session_id = seeker
    caplog.set_level(logging.WARNING, logger=PROVIDER_LOGGER)
    fake_model.enqueue_stream(["I hear you."])
    fake_model.enqueue_error(400, "response_format json_schema is not supported")
    texts = ["I'm so disappointed.", "I feel angry too.", "And tired of it all."]

    for number, text in enumerate(texts):
        if number:
            fake_model.enqueue_stream([f"Reply {number}."])
        events = api.send_streaming(token, session_id, text)
        settle(app)
        assert events[-1][0] == "done"

    assert len(fake_model.reply_requests) == len(texts)
    assert len(fake_model.reflection_requests) == 1
    warnings = provider_warnings(caplog)
    assert len(warnings) == 1
    assert "keyword rules" in warnings[0]
    assert stored_record(app, session_id) == named_by_seeker(app, *texts)


def test_an_unrelated_400_does_not_switch_structured_output_off(
    app: Flask, api: ApiActions, seeker: tuple[str, int], fake_model: FakeModel
) -> None:
    token, session_id = seeker
    fake_model.enqueue_stream(["I hear you."])
    fake_model.enqueue_error(400, "This model's maximum context length is exceeded")
    fake_model.enqueue_stream(["Go on."])
    fake_model.enqueue_json(json.dumps({"emotions": ["weary"]}))
    for text in ("I'm so disappointed.", "And tired."):
        assert api.send_streaming(token, session_id, text)[-1][0] == "done"
        settle(app)
    assert len(fake_model.reflection_requests) == 2
    assert "weary" in stored_record(app, session_id).emotions


# Secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", ["complete", "auth-failed"])
def test_the_api_key_is_never_logged(
    app_factory: AppFactory,
    fake_model: FakeModel,
    caplog: pytest.LogCaptureFixture,
    outcome: str,
) -> None:
    for name in (None, "openai", "httpx2", "httpcore", "coach"):
        caplog.set_level(logging.DEBUG, logger=name)
    # The app is built under DEBUG too: the key must not be logged when the client is made.
    app = make_openai_app(app_factory, fake_model)
    api = ApiActions(app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    if outcome == "complete":
        fake_model.enqueue_stream(["Thank you ", "for telling me."])
        fake_model.enqueue_json(EMPTY_RECORD)
    else:
        fake_model.enqueue_error(401, "Incorrect API key provided: test-k***")

    response = api.client.post(
        f"/api/v1/sessions/{session_id}/messages",
        headers=api.headers(token, Accept="text/event-stream"),
        json={"content": "They chose another candidate."},
    )
    events = parse_events(response.get_data(as_text=True))
    settle(app)

    assert events[-1][0] == ("done" if outcome == "complete" else "error")
    assert fake_model.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    assert any(r.name.startswith("openai") for r in caplog.records), "client logs not captured"
    for record in caplog.records:
        assert API_KEY not in record.getMessage(), record.name
        assert API_KEY not in repr(record.args), record.name
    assert API_KEY not in caplog.text
