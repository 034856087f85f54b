"""A plan asked for in the chat, in words or with the "Make my plan" quick reply, is
written, stored and shown there: in guided mode, and with a model over real HTTP
against the fake model, where a plan that cannot be written is a failed reply that
loses nothing and can be tried again."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask, url_for
from sqlalchemy import func, select

from coach.coaching.background import background
from coach.guide.move import MAKE_PLAN, MOVE_ON, TAKE_BREAK
from coach.plans.chat import chosen_horizon, plan_page
from coach.plans.schema import DEFAULT_HORIZON, HORIZONS
from coach.plans.templates import plan_templates
from coach.storage.database import database
from coach.storage.models import Message, Plan
from tests.conftest import ApiActions, AppFactory, make_openai_app
from tests.conversations import GUIDED_WALK
from tests.fake_model import FakeModel
from tests.plan_actions import SQL_RECORD, TODAY, as_json, fix_today, model_plan, set_record

IN_WORDS = "Can you just write the plan out for me with dates?"
# The model's reading of the record after each complete reply (it finds nothing new).
EMPTY_RECORD = "{}"
PLAN_LINK = re.compile(r'<a href="(/chat/(\d+)/plan\?version=(\d+))"')


@pytest.fixture
def app(app_factory: AppFactory) -> Flask:
    made = app_factory()
    fix_today(made)
    return made


def walk(api: ApiActions, messages: list[str]) -> tuple[str, int]:
    token = api.guest()
    session_id = api.new_session(token)
    for text in messages:
        assert api.send(token, session_id, text).status_code == 201
    return token, session_id


def stored_plans(app: Flask, session_id: int) -> list[Plan]:
    with database(app).make_session() as db:
        return list(
            db.scalars(
                select(Plan).where(Plan.coaching_session_id == session_id).order_by(Plan.version)
            )
        )


def shown_plan(api: ApiActions, token: str, session_id: int) -> dict:
    response = api.client.get(f"/api/v1/sessions/{session_id}/plan", headers=api.headers(token))
    assert response.status_code == 200, response.json
    plan: dict = response.json
    return plan


def assert_reply_shows(reply: dict, plan: dict) -> None:
    """The reply names every goal, the first step's date, the disclaimer's no-guarantee
    line, and links to this very plan version's page."""
    for goal in plan["goals"]:
        assert goal["title"] in reply["content"]
    first_due = plan["goals"][0]["steps"][0]["due"]
    day = date.fromisoformat(first_due)
    assert f"{day.day} {day:%B}" in reply["content"]
    assert "guarantee" in reply["content"] and "not a therapist" in reply["content"]
    link = PLAN_LINK.search(reply["content_html"])
    assert link is not None, reply["content_html"]
    assert (int(link[2]), int(link[3])) == (plan["session_id"], plan["version"])
    assert link[1] in reply["html"]  # the article the page and chat.js show


def test_asking_in_words_writes_the_plan_and_the_reply_links_to_it(app, api):
    token, session_id = walk(api, GUIDED_WALK)
    assert stored_plans(app, session_id) == []
    response = api.send(token, session_id, IN_WORDS)
    assert response.status_code == 201, response.json
    reply = response.json["reply"]
    assert response.json["user_message"]["content"] == IN_WORDS
    [stored] = stored_plans(app, session_id)
    assert stored.horizon_weeks == DEFAULT_HORIZON
    plan = shown_plan(api, token, session_id)
    assert plan["id"] == stored.id and plan["model"] == "guided"
    assert "Show my distinctive strengths more clearly in applications" in [
        g["title"] for g in plan["goals"]
    ]
    assert_reply_shows(reply, plan)
    assert reply["stage"] == "plan" and reply["status"] == "complete"
    assert reply["choices"] == [TAKE_BREAK]
    # The link leads to the browser's plan page, which shows this plan.
    page = api.client.get(PLAN_LINK.search(reply["content_html"])[1])
    assert page.status_code in (200, 302)


def test_the_quick_reply_writes_the_plan_after_the_recap(app, api):
    # "Move on" into the plan stage recaps and offers the quick reply; it writes nothing yet.
    token, session_id = walk(api, GUIDED_WALK[:-1])
    moved = api.send(token, session_id, MOVE_ON).json["reply"]
    assert moved["stage"] == "plan" and MAKE_PLAN in moved["choices"]
    assert stored_plans(app, session_id) == []

    reply = api.send(token, session_id, MAKE_PLAN).json["reply"]
    [stored] = stored_plans(app, session_id)
    assert_reply_shows(reply, shown_plan(api, token, session_id))

    # Asking again makes a new version; the earlier reply still links to its own.
    again = api.send(token, session_id, "Make me a plan for the next two weeks please").json
    first, second = stored_plans(app, session_id)
    assert (first.id, second.version, second.horizon_weeks) == (stored.id, 2, 2)
    assert_reply_shows(again["reply"], shown_plan(api, token, session_id))
    assert PLAN_LINK.search(reply["content_html"])[3] == "1"


def test_the_horizon_named_in_words_bounds_the_plan(app, api):
    token, session_id = walk(api, GUIDED_WALK[:3])
    reply = api.send(token, session_id, "Give me a plan for the next month, with dates").json
    [stored] = stored_plans(app, session_id)
    assert stored.horizon_weeks == 4
    assert stored.review_on == TODAY + timedelta(weeks=4)
    assert "your 4-week plan" in reply["reply"]["content"]
    reply = api.send(token, session_id, "Actually write the plan for eight weeks").json
    assert stored_plans(app, session_id)[-1].horizon_weeks == 8
    assert "your 8-week plan" in reply["reply"]["content"]


@pytest.mark.parametrize(
    ("said", "weeks"),
    [
        ("a plan for the next month", 4),
        ("plan for the next two weeks", 2),
        ("a fortnight", 2),
        ("the next couple of months", 8),
        ("8 weeks, no, a month", 4),
        ("write my plan", DEFAULT_HORIZON),
        ("my contract is two-weekly", DEFAULT_HORIZON),
    ],
)
def test_the_horizon_in_the_seekers_words(app, said, weeks):
    assert chosen_horizon(said, plan_templates(app).chat) == weeks
    assert weeks in HORIZONS


def test_the_stream_shows_the_stored_message_then_the_plan(app, api):
    token, session_id = walk(api, GUIDED_WALK)
    events = api.send_streaming(token, session_id, IN_WORDS)
    names = [name for name, _data in events]
    assert names[0] == "message" and names[-1] == "done"
    assert events[0][1]["message"]["content"] == IN_WORDS
    reply = events[-1][1]["reply"]
    assert "".join(data["text"] for name, data in events if name == "delta") == reply["content"]
    assert_reply_shows(reply, shown_plan(api, token, session_id))


def test_the_link_is_the_plan_page_and_no_other_relative_link_survives(app, api):
    with app.test_request_context():
        assert plan_page(7, 3) == url_for("pages.plan", session_id=7, version=3)
    token, session_id = walk(api, ["I feel sad."])
    with database(app).make_session() as db, db.begin():
        db.add(
            Message(
                coaching_session_id=session_id,
                role="assistant",
                stage="emotions",
                content=(
                    f"[mine]({plan_page(session_id, 1)}) [theirs]({plan_page(session_id + 1, 1)}) "
                    "[away](//evil.example/x) [local](/me/delete) [**x**](javascript:alert(1))"
                ),
            )
        )
    html = api.session(token, session_id)["messages"][-1]["content_html"]
    # Every other link keeps its words and loses its target.
    assert re.findall(r'href="([^"]*)"', html) == [plan_page(session_id, 1)]
    assert html.count("<a ") == 4


# With a model: the plan is structured output over real HTTP --------------------------
# After a complete reply the model reads the record in the background: each such
# reply is scripted with its reading, and waited for before the next turn.


@pytest.fixture
def model_app(fake_model: FakeModel, app_factory: AppFactory) -> Flask:
    made = make_openai_app(app_factory, fake_model)
    fix_today(made)
    return made


@pytest.fixture
def model_api(model_app: Flask) -> ApiActions:
    return ApiActions(model_app.test_client())


@pytest.fixture
def model_seeker(model_app: Flask, model_api: ApiActions) -> tuple[str, int]:
    token = model_api.guest()
    session_id = model_api.new_session(token)
    set_record(model_app, session_id, SQL_RECORD)
    return token, session_id


def plan_count(app: Flask) -> int:
    with database(app).make_session() as db:
        return db.scalar(select(func.count()).select_from(Plan)) or 0


def plan_answered(fake_model: FakeModel, answer: str) -> None:
    """The model's plan, then its reading of the record after the reply."""
    fake_model.enqueue_json(answer)
    fake_model.enqueue_json(EMPTY_RECORD)


def messages_of(app: Flask, session_id: int) -> list[Message]:
    with database(app).make_session() as db:
        return list(db.scalars(Message.in_session(session_id)))


def test_with_a_model_the_chat_request_writes_the_plan(
    model_app, model_api, model_seeker, fake_model
):
    token, session_id = model_seeker
    plan_answered(fake_model, as_json(model_plan()))
    response = model_api.send(token, session_id, IN_WORDS)
    background(model_app).wait_idle()
    assert response.status_code == 201, response.json
    request, _reading = fake_model.requests  # the plan: no chat reply was streamed
    assert request.schema_name == "action_plan" and not request.streamed
    assert IN_WORDS in request.messages[-1]["content"]  # the conversation, as data
    reply = response.json["reply"]
    assert reply["status"] == "complete"
    plan = shown_plan(model_api, token, session_id)
    assert plan["model"] == "fake-model"
    assert_reply_shows(reply, plan)
    assert "pick one SQL course" in reply["content"]
    with database(model_app).make_session() as db:
        stored = db.get_one(Message, reply["id"])
        assert stored.model == "fake-model"


def test_with_a_model_a_plan_that_cannot_be_written_fails_the_reply_and_loses_nothing(
    model_app, model_api, model_seeker, fake_model
):
    token, session_id = model_seeker
    plan_answered(fake_model, as_json(model_plan()))
    model_api.send(token, session_id, "Write my plan")
    background(model_app).wait_idle()
    first = shown_plan(model_api, token, session_id)

    fake_model.enqueue_json("not JSON")
    fake_model.enqueue_json(as_json(model_plan(routine=[])))  # the repair fails too
    response = model_api.send(token, session_id, IN_WORDS)
    assert response.status_code == 502
    assert response.json["error"]["code"] == "plan_unavailable"
    assert "nothing was changed" in response.json["error"]["message"]
    # The seeker's message was stored before anything could fail, and says so.
    assert response.json["user_message"]["content"] == IN_WORDS
    assert plan_count(model_app) == 1
    assert shown_plan(model_api, token, session_id) == first
    *_, asked, failed = messages_of(model_app, session_id)
    assert (asked.content, failed.status, failed.error) == (IN_WORDS, "failed", "plan_unavailable")
    assert model_api.session(token, session_id)["retry_offered"] is True

    # Trying again writes the plan for the same message.
    plan_answered(fake_model, as_json(model_plan()))
    retried = model_api.client.post(
        f"/api/v1/sessions/{session_id}/retry", headers=model_api.headers(token)
    )
    background(model_app).wait_idle()
    assert retried.status_code == 201, retried.json
    assert retried.json["user_message"]["id"] == asked.id
    assert plan_count(model_app) == 2
    assert_reply_shows(retried.json["reply"], shown_plan(model_api, token, session_id))


def test_with_a_model_the_stream_ends_in_a_retryable_error(
    model_app, model_api, model_seeker, fake_model
):
    token, session_id = model_seeker
    for _ in range(3):  # every attempt the provider makes
        fake_model.enqueue_error(500)
    events = model_api.send_streaming(token, session_id, IN_WORDS)
    assert [name for name, _data in events] == ["message", "error"]
    assert events[0][1]["message"]["content"] == IN_WORDS
    error = events[1][1]
    assert error["error"]["code"] == "plan_unavailable" and error["retryable"] is True
    assert error["reply"]["status"] == "failed"
    assert plan_count(model_app) == 0


def test_with_a_model_its_plan_text_is_shown_as_text_never_as_markup(
    model_app, model_api, model_seeker, fake_model
):
    token, session_id = model_seeker
    sly = "[win](https://evil.example) <b>bold</b> *now* `code`"
    goals = model_plan()["goals"]
    goals[0] = {**goals[0], "title": sly}
    plan_answered(fake_model, as_json(model_plan(goals=goals)))
    reply = model_api.send(token, session_id, IN_WORDS).json["reply"]
    background(model_app).wait_idle()
    html = reply["content_html"]
    assert "[win](https://evil.example) &lt;b&gt;bold&lt;/b&gt; *now* `code`" in html
    assert 'href="https://evil.example' not in html
    assert "<b>" not in html and "<em>" not in html and "<code>" not in html
    assert PLAN_LINK.search(html) is not None
