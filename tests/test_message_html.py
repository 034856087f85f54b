"""Each message keeps its content as safe HTML, rendered once when it is written:
on every path that stores a message (the seeker's own, guided replies, a plan
written in the chat, the crisis reply and careful mode's check-ins, model replies
complete, partial or failed) and on any change to its content. The API shows the
stored HTML; a row stored before the column existed is rendered when it is read,
until `coach db store-html` stores its HTML too."""

from __future__ import annotations

import re

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import select, update

from coach.coaching.background import background
from coach.storage.database import alembic_config, database
from coach.storage.html_backfill import store_missing_html
from coach.storage.message_html import render_markdown
from coach.storage.models import CoachingSession, Message
from tests.conftest import ApiActions, AppFactory, make_openai_app
from tests.conversations import GUIDED_WALK
from tests.fake_model import FakeModel
from tests.test_plan_chat import IN_WORDS, PLAN_LINK
from tests.test_safety_flow import CRISIS, EMPTY_RECORD

UNSAFE_REPLY = [
    "**Take a breath.** <script>alert(1)</script> ",
    "[click](javascript:alert(1)) ![pic](https://example.org/a.png) ",
    '<a href="https://x.org" onclick="evil()">x</a> [help](https://example.org/help)',
]


def stored_messages(app: Flask, session_id: int) -> list[Message]:
    with database(app).make_session() as db:
        return list(db.scalars(Message.in_session(session_id)))


def assert_every_message_has_its_html(app: Flask, session_id: int) -> list[Message]:
    """Every row's HTML is there, and is what its content renders to."""
    messages = stored_messages(app, session_id)
    assert messages
    for message in messages:
        assert message.content_html is not None, (message.id, message.role, message.status)
        assert message.content_html == render_markdown(message.content, session_id=session_id)
    return messages


def seeker(api: ApiActions) -> tuple[str, int]:
    token = api.guest()
    return token, api.new_session(token)


def test_a_guided_conversation_and_a_plan_written_in_the_chat_store_their_html(app, api):
    token, session_id = seeker(api)
    for text in [*GUIDED_WALK, IN_WORDS]:
        assert api.send(token, session_id, text).status_code == 201
    messages = assert_every_message_has_its_html(app, session_id)
    assert {m.role for m in messages} == {"user", "assistant"}
    # The plan's reply keeps the one relative link a message may carry.
    plan_reply = messages[-1]
    assert PLAN_LINK.search(plan_reply.content_html or "")


def test_the_crisis_reply_and_careful_modes_check_ins_store_their_html(app_factory):
    app = app_factory(COACH_CRISIS_REGION="US")
    api = ApiActions(app.test_client())
    token, session_id = seeker(api)
    crisis = api.send(token, session_id, CRISIS).json["reply"]
    check_in = api.send(token, session_id, "I don't know anymore").json["reply"]
    assert (crisis["safety"]["kind"], check_in["safety"]["kind"]) == ("crisis", "check_in")
    messages = assert_every_message_has_its_html(app, session_id)
    assert "988" in (messages[1].content_html or "")


@pytest.fixture
def model_app(app_factory: AppFactory, fake_model: FakeModel) -> Flask:
    return make_openai_app(app_factory, fake_model)


def test_model_replies_store_their_html_complete_partial_and_failed(model_app, fake_model):
    api = ApiActions(model_app.test_client())
    token, session_id = seeker(api)
    fake_model.enqueue_stream(["That sounds **hard**, ", "and you got *close*."])
    fake_model.enqueue_json(EMPTY_RECORD)
    assert api.send(token, session_id, "They chose someone else.").status_code == 201
    background(model_app).wait_idle()
    fake_model.enqueue_broken_stream(["It makes sense ", "to feel `let down`"])
    events = api.send_streaming(token, session_id, "I keep replaying it.")
    assert events[-1][0] == "error"
    for _attempt in range(model_app.config["COACH_MODEL_ATTEMPTS"]):
        fake_model.enqueue_error(500)
    assert api.send(token, session_id, "Are you there?").status_code >= 500
    background(model_app).wait_idle()

    messages = assert_every_message_has_its_html(model_app, session_id)
    replies = [m for m in messages if m.role == "assistant"]
    assert [m.status for m in replies] == ["complete", "partial", "failed"]
    assert "<strong>hard</strong>" in (replies[0].content_html or "")
    assert "<code>let down</code>" in (replies[1].content_html or "")


def test_model_markup_is_sanitised_when_stored(model_app, fake_model):
    api = ApiActions(model_app.test_client())
    token, session_id = seeker(api)
    fake_model.enqueue_stream(UNSAFE_REPLY)
    fake_model.enqueue_json(EMPTY_RECORD)
    shown = api.send(token, session_id, "What now?").json["reply"]
    background(model_app).wait_idle()

    stored = assert_every_message_has_its_html(model_app, session_id)[-1].content_html or ""
    for forbidden in ("<script", "<img", 'href="javascript', '<a href="https://x.org"'):
        assert forbidden not in stored
    assert not re.search(r"<[^>]*onclick", stored)  # as text, escaped, it may stay
    assert "<strong>Take a breath.</strong>" in stored
    assert '<a href="https://example.org/help" rel="noopener noreferrer nofollow">' in stored
    assert shown["content_html"] == stored


def test_the_api_and_the_page_show_the_stored_html_without_rendering_it_again(app, api):
    token, session_id = seeker(api)
    api.send(token, session_id, "I feel *gutted*.")
    with database(app).make_session() as db:
        db.execute(
            update(Message)
            .where(Message.coaching_session_id == session_id)
            .values(content_html="<p>as stored</p>")
        )
        db.commit()
    shown = api.session(token, session_id)["messages"]
    assert [m["content_html"] for m in shown] == ["<p>as stored</p>"] * 2
    assert "<p>as stored</p>" in shown[1]["html"]


def test_a_row_without_html_is_rendered_safely_when_read_and_left_as_it_was(app, api):
    token, session_id = seeker(api)
    api.send(token, session_id, "Hello")
    reply_id = api.session(token, session_id)["messages"][1]["id"]
    with database(app).make_session() as db:
        db.execute(
            update(Message)
            .where(Message.id == reply_id)
            .values(content="**Older** <script>x()</script> [p](/chat/1/plan?version=1)")
            .values(content_html=None)
        )
        db.commit()
    reply = api.session(token, session_id)["messages"][1]
    assert "<strong>Older</strong>" in reply["content_html"]
    assert "<script" not in reply["content_html"] and "<script" not in reply["html"]
    assert reply["content_html"] == render_markdown(
        "**Older** <script>x()</script> [p](/chat/1/plan?version=1)", session_id=session_id
    )
    # A read writes nothing: the row stays as it was until its content changes.
    with database(app).make_session() as db:
        assert db.get_one(Message, reply_id).content_html is None


def test_changing_a_messages_content_renders_its_html_again(app, api):
    token, session_id = seeker(api)
    api.send(token, session_id, "Hello")
    with database(app).make_session() as db:
        message = db.scalars(Message.in_session(session_id)).first()
        assert message is not None
        message.content = "Now *different*"
        db.commit()
        assert db.scalar(select(Message.content_html).where(Message.id == message.id)) == (
            "<p>Now <em>different</em></p>\n"
        )


def test_a_message_added_through_its_session_knows_its_session_for_links(app, api):
    token, session_id = seeker(api)
    link = f"[the plan](/chat/{session_id}/plan?version=2)"
    with database(app).make_session() as db:
        coaching_session = db.get_one(CoachingSession, session_id)
        coaching_session.messages.append(Message(role="assistant", content=link, stage="plan"))
        db.commit()
        html = db.scalars(Message.in_session(session_id)).one().content_html or ""
    assert f'href="/chat/{session_id}/plan?version=2"' in html
    assert api.session(token, session_id)["messages"][0]["content_html"] == html


def test_rows_from_before_the_migration_are_shown_rendered(storage_app, storage_api):
    token, session_id = seeker(storage_api)
    storage_api.send(token, session_id, "It went *well*, I thought.")
    before = [m["content_html"] for m in storage_api.session(token, session_id)["messages"]]
    config = alembic_config(database(storage_app))
    command.downgrade(config, "0007")
    command.upgrade(config, "head")
    with database(storage_app).make_session() as db:
        assert db.scalars(select(Message.content_html)).all() == [None, None]
    after = [m["content_html"] for m in storage_api.session(token, session_id)["messages"]]
    assert after == before
    assert "<em>well</em>" in after[0]


def test_the_command_stores_the_html_of_older_rows_once(storage_app, storage_api):
    token, session_id = seeker(storage_api)
    for text in ("It went *well*, I thought.", "Then **nothing** for a week."):
        storage_api.send(token, session_id, text)
    shown = storage_api.session(token, session_id)["messages"]
    config = alembic_config(database(storage_app))
    command.downgrade(config, "0007")
    command.upgrade(config, "head")
    runner = storage_app.test_cli_runner()

    result = runner.invoke(args=["db", "store-html"])
    assert result.exit_code == 0, result.output
    assert "Stored the HTML of 4 message(s)." in result.output
    assert_every_message_has_its_html(storage_app, session_id)
    assert storage_api.session(token, session_id)["messages"] == shown
    # Run again, it finds nothing left to do.
    assert "Stored the HTML of 0 message(s)." in runner.invoke(args=["db", "store-html"]).output


def test_the_backfill_goes_a_batch_at_a_time(app, api):
    token, session_id = seeker(api)
    for text in ("one", "two", "three"):
        api.send(token, session_id, text)
    with database(app).make_session() as db:
        db.execute(update(Message).values(content_html=None))
        db.commit()
        assert store_missing_html(db, batch=4) == 6
    assert_every_message_has_its_html(app, session_id)
