"""A model writes the plan as structured output, over real HTTP against the fake
model: a valid answer is stored; an unfit one is repaired once; two unfit answers
are a 502 `plan_unavailable` and nothing stored changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from coach.storage.database import database
from coach.storage.models import Plan
from tests.conftest import ApiActions, AppFactory, make_openai_app
from tests.fake_model import FakeModel
from tests.plan_actions import (
    SQL_RECORD,
    TODAY,
    as_json,
    fix_today,
    make_plan,
    model_plan,
    set_record,
)


@pytest.fixture
def app(fake_model: FakeModel, app_factory: AppFactory) -> Flask:
    made = make_openai_app(app_factory, fake_model)
    fix_today(made)
    return made


@pytest.fixture
def seeker(app: Flask, api: ApiActions) -> tuple[str, int]:
    token = api.guest()
    session_id = api.new_session(token)
    set_record(app, session_id, SQL_RECORD)
    return token, session_id


def plan_count(app: Flask) -> int:
    with database(app).make_session() as db:
        return db.scalar(select(func.count()).select_from(Plan)) or 0


def test_a_valid_answer_is_stored_as_the_plan(app, api, seeker, fake_model):
    token, session_id = seeker
    fake_model.enqueue_json(as_json(model_plan()))
    response = make_plan(api, token, session_id, horizon_weeks=4)
    assert response.status_code == 201, response.json
    plan = response.json
    assert plan["model"] == "fake-model"
    assert [g["title"] for g in plan["goals"]] == [
        "Get solid at SQL joins",
        "Walk three times a week",
    ]
    assert plan["review_on"] == (TODAY + timedelta(weeks=4)).isoformat()
    assert plan["insights"]["likely_causes"][0]["cause"] == "skills_gap"
    assert "guarantee" in plan["disclaimer"]
    assert plan["progress"] == {
        "done": 0,
        "total": 3,
        "next_step": {
            "id": plan["goals"][1]["steps"][0]["id"],
            "title": "Plan the walks",
            "due": (TODAY + timedelta(1)).isoformat(),
        },
    }
    [request] = fake_model.requests
    assert request.schema_name == "action_plan"
    schema = request.body["response_format"]["json_schema"]["schema"]
    assert "goals" in schema["properties"]
    system, user = request.messages
    # The seeker's words sit in the data block, never in the instructions.
    assert "SQL was too thin" not in system["content"]
    assert "SQL was too thin" in user["content"]
    assert TODAY.isoformat() in system["content"]
    assert "skills_gap" in system["content"]


@pytest.mark.parametrize(
    ("unfit", "complaint"),
    [
        pytest.param("not JSON", "did not fit", id="not-json"),
        pytest.param(
            as_json(
                model_plan(
                    goals=[
                        {
                            **model_plan()["goals"][0],
                            "steps": [
                                {"title": "Late", "due": (TODAY + timedelta(60)).isoformat()}
                            ],
                        }
                    ]
                )
            ),
            "outside",
            id="date-beyond-horizon",
        ),
        pytest.param(
            as_json(model_plan(goals=[model_plan()["goals"][1]])),
            "skills_gap",
            id="categories-miss-the-cause",
        ),
        pytest.param(
            as_json(model_plan(headline="I guarantee you'll be hired within a month.")),
            "guarantee",
            id="a-promised-outcome",
        ),
    ],
)
def test_an_unfit_answer_is_repaired_once(app, api, seeker, fake_model, unfit, complaint):
    token, session_id = seeker
    fake_model.enqueue_json(unfit)
    fake_model.enqueue_json(as_json(model_plan()))
    response = make_plan(api, token, session_id)
    assert response.status_code == 201, response.json
    first, repair = fake_model.requests
    assert repair.messages[:2] == first.messages
    assert repair.messages[2] == {"role": "assistant", "content": unfit}
    assert complaint in repair.messages[3]["content"]
    assert plan_count(app) == 1


def test_two_unfit_answers_are_a_502_and_change_nothing(app, api, seeker, fake_model):
    token, session_id = seeker
    fake_model.enqueue_json(as_json(model_plan()))
    first = make_plan(api, token, session_id).json

    fake_model.enqueue_json("{}")
    fake_model.enqueue_json(as_json(model_plan(routine=[])))
    response = make_plan(api, token, session_id)
    assert response.status_code == 502
    assert response.json["error"]["code"] == "plan_unavailable"
    assert "nothing was changed" in response.json["error"]["message"]
    assert plan_count(app) == 1
    shown = api.client.get(f"/api/v1/sessions/{session_id}/plan", headers=api.headers(token))
    assert shown.json == first


def test_a_model_error_is_a_502_too(app, api, seeker, fake_model):
    token, session_id = seeker
    for _ in range(3):  # every attempt the provider makes
        fake_model.enqueue_error(500)
    response = make_plan(api, token, session_id)
    assert response.status_code == 502
    assert response.json["error"]["code"] == "plan_unavailable"
    assert plan_count(app) == 0


def test_a_server_without_json_schemas_gets_a_plan_from_the_templates(app, api, seeker, fake_model):
    token, session_id = seeker
    fake_model.enqueue_error(400, "response_format json_schema is not supported")
    response = make_plan(api, token, session_id)
    assert response.status_code == 201, response.json
    assert response.json["model"] == "guided"
    assert "skills" in {g["category"] for g in response.json["goals"]}
