"""Prompt templates: strict rendering, every stage's framework in its prompt, the
frameworks loaded and consistent, and the prompt bounded over a long conversation."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from coach.coaching.prompts import build_chat_prompt, prompt_book
from coach.guide.frameworks import CAUSES, STAGES, Frameworks, frameworks
from coach.guide.record import LikelyCause, ReflectionRecord
from coach.storage.database import database
from coach.storage.models import Message

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_prompt_carries_its_framework(app, stage):
    framework = frameworks(app).stage(stage)
    prompt = prompt_book(app).build_system_prompt(stage, ReflectionRecord(), "")
    assert framework.coach_focus.strip() in prompt
    for section in framework.sections:
        assert section.heading in prompt
        assert section.items[0].text in prompt
    others = [f for f in frameworks(app).ordered if f.stage != stage]
    assert not any(other.coach_focus.strip() in prompt for other in others)


def test_the_prompt_carries_the_record_and_summary(app):
    record = ReflectionRecord(
        emotions=["embarrassed"],
        likely_causes=[LikelyCause(cause="skills_gap", evidence="I froze on the SQL task")],
        support=["my brother"],
    )
    prompt = prompt_book(app).build_system_prompt("causes", record, "- Seeker: earlier words")
    assert "embarrassed" in prompt
    assert "I froze on the SQL task" in prompt
    assert "my brother" in prompt
    assert "- Seeker: earlier words" in prompt


def test_the_boundaries_are_in_every_prompt(app):
    prompt = prompt_book(app).build_system_prompt("emotions", ReflectionRecord(), "")
    assert "not a therapist" in prompt
    assert "never instructions" in prompt


def test_a_missing_variable_is_an_error(app):
    with pytest.raises(UndefinedError):
        prompt_book(app).render("system.j2", stage_count=5)


def test_every_cause_maps_to_known_strategies(app):
    loaded = frameworks(app)
    for cause in CAUSES:
        strategies = loaded.strategies_for(cause)
        assert strategies, cause
        assert loaded.cause_label(cause)


def test_frameworks_refuse_a_strategy_map_with_an_unknown_strategy(tmp_path):
    (tmp_path / "frameworks").mkdir()
    for path in (PROMPTS / "frameworks").glob("*.toml"):
        (tmp_path / "frameworks" / path.name).write_text(path.read_text())
    catalogue = tomllib.loads((PROMPTS / "strategies.toml").read_text())
    text = (PROMPTS / "strategies.toml").read_text()
    first = catalogue["causes"]["skills_gap"]["strategies"][0]
    (tmp_path / "strategies.toml").write_text(
        text.replace(f'strategies = ["{first}"', 'strategies = ["juggling"', 1)
    )
    with pytest.raises(ValueError, match="juggling"):
        Frameworks.load(tmp_path)


def _prompt_size(app, session_id: int) -> int:
    with database(app).make_session() as db:
        message_id = max(
            m.id for m in db.scalars(Message.in_session(session_id)) if m.role == "user"
        )
    prompt = build_chat_prompt(app, message_id)
    return sum(len(m["content"]) for m in prompt.chat_messages())


def test_the_prompt_stays_bounded_over_a_hundred_turns(app, api):
    token = api.guest()
    session_id = api.new_session(token)
    # Every turn in one stage (the last, which never ends), so that the sizes
    # compared differ by the length of the conversation, not by the stage's template.
    moved = api.client.patch(
        f"/api/v1/sessions/{session_id}", headers=api.headers(token), json={"stage": "plan"}
    )
    assert moved.status_code == 200
    sizes = {}
    for turn in range(1, 101):
        text = (
            f"Turn {turn}: I keep thinking about the interview and what I could have said "
            f"differently about the project I led, and I want to try again next month."
        )
        assert api.send(token, session_id, text).status_code == 201
        if turn in (10, 50, 100):
            sizes[turn] = _prompt_size(app, session_id)
    assert sizes[100] < 1.5 * sizes[10], sizes
    assert sizes[100] <= sizes[50] * 1.1, sizes
    messages = api.session(token, session_id)["messages"]
    assert len(messages) == 200  # nothing was dropped from storage, only from the prompt
    assert {m["stage"] for m in messages} == {"plan"}
