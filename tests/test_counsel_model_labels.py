"""The quality panel labelled by a model over real HTTP (the fake model): labels come
from the model when one is configured and say so; they are stored and not asked for
again; an invalid or garbled answer, or a model error, leaves the rules to stand in
(per reply, and marked); guided mode uses the rules and says so; and only a counselor
reading a shared session ever sets labelling off."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from coach.coaching.background import background
from coach.counsel.schema import STRATEGIES
from coach.counsel.strategies import label_reply
from coach.guide.record import ReflectionRecord
from coach.storage.database import database
from coach.storage.models import ReplyLabel
from tests.conftest import ApiActions, make_openai_app
from tests.counsel_actions import browser_login, login, make_user, share
from tests.fake_model import FakeModel

SAID = [
    "I didn't get the job after the second interview",
    "They said the other candidate had more experience with budgets",
    "What should I do now?",
]
REPLIES = [
    "That news must sting after getting so far. What has been hardest about it?",
    "So the feedback was about budget experience, not about you as a person.",
    "You could ask the recruiter which budget skills they had in mind.",
]
MODEL_LABELS = [
    {"reply": 1, "strategy": "reflection_of_feelings", "reflection": "complex", "questions": 1},
    {"reply": 2, "strategy": "restatement", "reflection": "simple", "questions": 0},
    {"reply": 3, "strategy": "suggestion", "reflection": "none", "questions": 0},
]


class Review:
    """A seeker's conversation (its replies written by the fake model, or by guided
    mode), shared with a counselor who reads it through the API."""

    def __init__(self, app: Flask, fake_model: FakeModel | None) -> None:
        self.app, self.fake_model = app, fake_model
        self.api = ApiActions(app.test_client())
        make_user(app, "counselor@example.org", "counselor")
        self.counselor = login(self.api, "counselor@example.org")
        self.seeker = self.api.guest()
        self.session_id = self.api.new_session(self.seeker)
        for said, reply in zip(SAID, REPLIES, strict=True):
            self.say(said, reply)
        share(self.api, self.seeker, self.session_id)

    def say(self, said: str, reply: str) -> None:
        if self.fake_model is not None:
            self.fake_model.enqueue_stream([reply])
            self.fake_model.enqueue_json(json.dumps(ReflectionRecord().model_dump(mode="json")))
        response = self.api.send(self.seeker, self.session_id, said)
        assert response.status_code == 201, response.json
        background(self.app).wait_idle()

    def read(self, token: str | None = None) -> Any:
        return self.api.client.get(
            f"/api/v1/counselor/sessions/{self.session_id}",
            headers=self.api.headers(token or self.counselor),
        )

    def transcript(self) -> dict[str, Any]:
        response = self.read()
        assert response.status_code == 200, response.json
        shown: dict[str, Any] = response.json
        return shown

    def stored(self) -> list[ReplyLabel]:
        with database(self.app).make_session() as db:
            return list(db.scalars(select(ReplyLabel).order_by(ReplyLabel.message_id)))


def coach_labels(transcript: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        m["strategy"]
        for segment in transcript["segments"]
        for m in segment["messages"]
        if m["role"] == "assistant"
    ]


@pytest.fixture
def model_review(app_factory, fake_model) -> Review:
    return Review(make_openai_app(app_factory, fake_model), fake_model)


def test_the_model_labels_the_replies_once_and_each_label_says_so(model_review, fake_model):
    fake_model.enqueue_labels(MODEL_LABELS)
    first = model_review.transcript()
    labels = coach_labels(first)
    assert [(x["strategy"], x["source"], x["reflection"]) for x in labels] == [
        ("reflection_of_feelings", "model", "complex"),
        ("restatement", "model", "simple"),
        ("suggestion", "model", None),
    ]
    assert all("fake-model" in x["reason"] for x in labels)
    quality = first["quality"]
    assert quality["source"] == "model"
    # Two reflections (one complex) to one question: 2:1, good; 50 % complex, good.
    assert quality["reflections_to_questions"] == {"value": 2.0, "rating": "good"}
    assert quality["complex_reflections"] == {"value": 0.5, "rating": "good"}
    # One request for the batch, with the fixed set in its schema and each reply
    # beside what the seeker said.
    assert len(fake_model.label_requests) == 1
    request = fake_model.label_requests[0]
    schema = json.dumps(request.body["response_format"]["json_schema"]["schema"])
    assert all(f'"{code}"' in schema for code in STRATEGIES)
    sent = request.messages[-1]["content"]
    assert all(reply in sent for reply in REPLIES) and SAID[1] in sent
    assert [(r.source, r.model) for r in model_review.stored()] == [("model", "fake-model")] * 3

    # Read again: nothing is asked; the same labels come from the store.
    assert model_review.transcript()["quality"] == quality
    assert len(fake_model.label_requests) == 1

    # A reply written since: only it is sent, as reply 1 of a batch of its own.
    model_review.say("I might ask them", "It's okay to take a day before you write to them.")
    fake_model.enqueue_labels(
        [{"reply": 1, "strategy": "affirmation", "reflection": "none", "questions": 0}]
    )
    labels = coach_labels(model_review.transcript())
    assert labels[-1]["strategy"] == "affirmation" and labels[-1]["source"] == "model"
    assert len(fake_model.label_requests) == 2
    sent = fake_model.label_requests[1].messages[-1]["content"]
    assert "take a day" in sent and REPLIES[0] not in sent


def test_the_page_shows_each_replys_label_and_the_panels_source(model_review, fake_model):
    fake_model.enqueue_labels(MODEL_LABELS)
    client = model_review.app.test_client()
    browser_login(client, "counselor@example.org")
    page = client.get(f"/counselor/sessions/{model_review.session_id}").get_data(as_text=True)
    assert 'id="quality-source" data-source="model"' in page
    assert "(labelled by the model)" in page
    assert page.count('data-source="model" title="labelled by the model fake-model"') == 3
    assert "reflection of feelings (complex reflection) · by the model" in page


def test_an_invalid_label_leaves_the_rules_for_that_reply_only(model_review, fake_model):
    fake_model.enqueue_labels(
        [
            MODEL_LABELS[0],
            {"reply": 2, "strategy": "empathy", "reflection": "simple", "questions": 0},
            {"reply": 1, "strategy": "other", "reflection": "none", "questions": 0},  # again
            {"reply": 9, "strategy": "question", "reflection": "none", "questions": 1},
            {"reply": 3, "strategy": "suggestion", "reflection": "none", "questions": "two"},
        ]
    )
    transcript = model_review.transcript()
    labels = coach_labels(transcript)
    assert [x["source"] for x in labels] == ["model", "rules", "rules"]
    assert labels[0]["strategy"] == "reflection_of_feelings"  # the first of reply 1's labels
    assert [x["strategy"] for x in labels[1:]] == [label_reply(r).strategy for r in REPLIES[1:]]
    assert all("did not fit" in x["reason"] for x in labels[1:])
    assert transcript["quality"]["source"] == "mixed"
    detail = transcript["quality"]["source_detail"]
    assert "2 of 3 replies by the rules, where its labels did not fit" in detail
    # Stored as the rules' labels: not asked about again.
    assert [r.source for r in model_review.stored()] == ["model", "rules", "rules"]
    assert model_review.transcript()["quality"]["source"] == "mixed"
    assert len(fake_model.label_requests) == 1


def test_a_garbled_answer_is_repaired_once_or_the_rules_stand(model_review, fake_model):
    fake_model.enqueue_labels(raw="Sure! Here are the labels: reflection, restatement")
    fake_model.enqueue_labels(raw='{"answer": "no labels"}')
    transcript = model_review.transcript()
    assert len(fake_model.label_requests) == 2
    assert "did not fit the schema" in fake_model.label_requests[1].messages[-1]["content"]
    assert {x["source"] for x in coach_labels(transcript)} == {"rules"}
    assert transcript["quality"]["source"] == "rules"
    assert "did not fit for 3 of 3 replies" in transcript["quality"]["source_detail"]
    assert [r.source for r in model_review.stored()] == ["rules"] * 3
    model_review.transcript()
    assert len(fake_model.label_requests) == 2


def test_a_repaired_answer_is_used(model_review, fake_model):
    fake_model.enqueue_labels(raw="not JSON at all")
    fake_model.enqueue_labels(MODEL_LABELS)
    assert model_review.transcript()["quality"]["source"] == "model"
    assert len(fake_model.label_requests) == 2


def test_a_model_error_leaves_the_rules_for_this_read_and_asks_again(model_review, fake_model):
    fake_model.enqueue_label_error(400)
    transcript = model_review.transcript()
    assert {x["source"] for x in coach_labels(transcript)} == {"rules"}
    assert transcript["quality"]["source"] == "rules"
    assert "could not label" in transcript["quality"]["source_detail"]
    assert model_review.stored() == []
    fake_model.enqueue_labels(MODEL_LABELS)
    assert model_review.transcript()["quality"]["source"] == "model"
    assert len(fake_model.label_requests) == 2


def test_guided_mode_labels_by_the_rules_and_says_so(app):
    review = Review(app, None)
    transcript = review.transcript()
    labels = coach_labels(transcript)
    assert labels and {x["source"] for x in labels} == {"rules"}
    assert transcript["quality"]["source"] == "rules"
    assert "guided mode" in transcript["quality"]["source_detail"]
    assert review.stored() == []
    client = app.test_client()
    browser_login(client, "counselor@example.org")
    page = client.get(f"/counselor/sessions/{review.session_id}").get_data(as_text=True)
    assert "(labelled by the rules)" in page and "guided mode" in page


def test_only_a_counselors_read_of_a_shared_session_asks_the_model(model_review, fake_model):
    api = model_review.api
    make_user(model_review.app, "admin@example.org", "admin")
    refused = {
        "the seeker": (model_review.read(model_review.seeker), 403),
        "another seeker": (model_review.read(api.guest()), 403),
        "an admin": (model_review.read(login(api, "admin@example.org")), 403),
    }
    for who, (response, status) in refused.items():
        assert response.status_code == status, who
    share(api, model_review.seeker, model_review.session_id, shared=False)
    assert model_review.read().status_code == 404
    assert fake_model.label_requests == []
    assert model_review.stored() == []


def test_the_labels_go_with_the_session_the_seeker_deletes(model_review, fake_model):
    fake_model.enqueue_labels(MODEL_LABELS)
    model_review.transcript()
    assert len(model_review.stored()) == 3
    api = model_review.api
    deleted = api.client.delete(
        f"/api/v1/sessions/{model_review.session_id}", headers=api.headers(model_review.seeker)
    )
    assert deleted.status_code == 204
    assert model_review.stored() == []
