"""The model's reading of the record on the `openai` path: it sees the current record,
may add and remove entries, and its evidence is checked against the seeker's own
words (never trusted); a full list keeps its earliest facts."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask

from coach.coaching.background import background
from coach.guide.record import MAX_ITEMS, LikelyCause, ReflectionRecord
from coach.guide.record_reading import RecordReading, Removal, apply_reading
from coach.providers.openai_chat import json_schema
from coach.safety.model_check import second_check
from coach.safety.screening import flag_crisis
from coach.storage.database import database
from coach.storage.models import CoachingSession
from tests.conftest import ApiActions, AppFactory, make_openai_app
from tests.conversations import GUIDED_WALK
from tests.fake_model import FakeModel

REFINEMENT_LOGGER = "coach.coaching.record_refinement"


@pytest.fixture
def app(fake_model: FakeModel, app_factory: AppFactory) -> Flask:
    return make_openai_app(app_factory, fake_model)


@pytest.fixture
def seeker(api: ApiActions) -> tuple[str, int]:
    token = api.guest()
    return token, api.new_session(token)


def set_record(app: Flask, session_id: int, record: ReflectionRecord) -> None:
    with database(app).make_session() as db:
        db.get_one(CoachingSession, session_id).reflection = record.model_dump(mode="json")
        db.commit()


def stored_record(app: Flask, session_id: int) -> ReflectionRecord:
    with database(app).make_session() as db:
        return ReflectionRecord.model_validate(db.get_one(CoachingSession, session_id).reflection)


def turn(
    app: Flask,
    api: ApiActions,
    seeker: tuple[str, int],
    fake_model: FakeModel,
    text: str,
    reading: dict[str, Any],
) -> None:
    """One seeker turn whose reply the fake model writes and whose record it reads."""
    token, session_id = seeker
    fake_model.enqueue_stream(["I hear you. What happened next?"])
    fake_model.enqueue_json(json.dumps(reading))
    assert api.send(token, session_id, text).status_code == 201
    background(app).wait_idle()


def test_the_model_is_shown_the_current_record(app, api, seeker, fake_model):
    _, session_id = seeker
    before = ReflectionRecord(emotions=["numb"], goals=["Practise SQL joins"])
    set_record(app, session_id, before)

    turn(app, api, seeker, fake_model, "The weather was grey.", {})

    [request] = fake_model.reflection_requests
    shown = request.messages[-1]["content"]
    assert json.dumps(before.model_dump(mode="json")) in shown
    assert "The weather was grey." in shown
    assert request.messages[0]["role"] == "system"
    assert "Practise SQL joins" not in request.messages[0]["content"]
    schema = request.body["response_format"]["json_schema"]["schema"]
    assert "remove" in schema["properties"]


def test_the_model_may_remove_what_it_misread(app, api, seeker, fake_model):
    _, session_id = seeker
    set_record(
        app,
        session_id,
        ReflectionRecord(
            emotions=["anger", "relief"],
            likely_causes=[
                LikelyCause(cause="culture_fit", evidence="They said I was a great culture fit"),
                LikelyCause(cause="skills_gap", evidence="I froze on the SQL exercise"),
            ],
        ),
    )
    reading = {
        "remove": [
            {"field": "likely_causes", "entry": "they said I was a great culture fit."},
            {"field": "emotions", "entry": "Relief"},
            {"field": "goals", "entry": "not in the record"},
        ]
    }
    turn(app, api, seeker, fake_model, "You got that part wrong.", reading)

    record = stored_record(app, session_id)
    assert [c.cause for c in record.likely_causes] == ["skills_gap"]
    assert "relief" not in record.emotions
    assert "anger" in record.emotions


def test_evidence_not_in_the_seekers_words_is_dropped_and_counted(
    app, api, seeker, fake_model, caplog
):
    _, session_id = seeker
    text = "The panel asked about window functions and I went blank."
    invented = "I have never written a window function in my life"
    from_the_coach = "I hear you"  # said by the coach, never by the seeker
    reading = {
        "likely_causes": [
            {"cause": "skills_gap", "evidence": "asked about WINDOW functions, and I went blank"},
            {"cause": "skills_gap", "evidence": invented},
            {"cause": "preparation", "evidence": from_the_coach},
        ],
        "emotions": ["embarrassed"],
    }
    caplog.set_level(logging.INFO, logger=REFINEMENT_LOGGER)
    turn(app, api, seeker, fake_model, text, reading)
    # The next turn's reading includes the coach's reply among the turns it shows.
    turn(app, api, seeker, fake_model, "Yes.", {"likely_causes": [reading["likely_causes"][2]]})

    record = stored_record(app, session_id)
    evidence = [c.evidence for c in record.likely_causes]
    assert "asked about WINDOW functions, and I went blank" in evidence
    assert invented not in evidence
    assert from_the_coach not in evidence
    assert "embarrassed" in record.emotions
    lines = [r.getMessage() for r in caplog.records if r.name == REFINEMENT_LOGGER]
    assert any("2 proposed causes dropped" in line for line in lines), lines
    assert any("1 proposed causes dropped" in line for line in lines), lines
    assert not any(invented in line or from_the_coach in line for line in lines)


def test_a_full_list_keeps_its_earliest_facts(app, api, seeker, fake_model):
    _, session_id = seeker
    earliest = [f"goal number {n}" for n in range(MAX_ITEMS)]
    set_record(app, session_id, ReflectionRecord(goals=earliest))

    turn(app, api, seeker, fake_model, "Nothing new.", {"goals": ["a later goal"]})
    assert stored_record(app, session_id).goals == earliest

    # Once the model removes one, there is room again.
    reading = {"goals": ["a later goal"], "remove": [{"field": "goals", "entry": "goal number 3"}]}
    turn(app, api, seeker, fake_model, "Drop the third goal.", reading)
    assert stored_record(app, session_id).goals == [
        *(g for g in earliest if g != "goal number 3"),
        "a later goal",
    ]


def test_a_plain_record_is_still_a_reading(app, api, seeker, fake_model):
    _, session_id = seeker
    text = "I'm crushed. They hired an internal candidate."
    reading = {"likely_causes": [{"cause": "competition", "evidence": "an internal candidate"}]}
    turn(app, api, seeker, fake_model, text, reading)
    # The keyword rules only propose (the seeker confirms them later); the model's
    # reading, a plain record here, is what the record holds.
    expected = ReflectionRecord().merge(RecordReading.model_validate(reading))
    assert stored_record(app, session_id) == expected


# The check itself, without a model ------------------------------------------------------


@pytest.mark.parametrize(
    ("evidence", "found"),
    [
        ("I froze on the SQL task", True),
        ("i FROZE on the sql task.", True),
        ("“I froze on the SQL task”", True),
        ("I didn\u2019t prepare", True),  # a curly apostrophe against a straight one
        ("froze on the SQL", True),
        ("I froze on the SQL test", False),
        ("froze on the SQ", False),  # part of a word is not the word
        ("I froze on the SQ…", True),  # clipped by the record: the last word may be cut
        ("...", False),
        ("I was nervous", False),
    ],
)
def test_evidence_must_be_in_the_seekers_words(evidence, found):
    said = ["Honestly, I froze on the SQL task. I didn't prepare enough."]
    reading = RecordReading(likely_causes=[LikelyCause(cause="skills_gap", evidence=evidence)])
    applied = apply_reading(ReflectionRecord(), reading, said)
    assert bool(applied.record.likely_causes) is found
    assert applied.unsupported == (0 if found else 1)


def test_evidence_already_in_the_record_needs_no_new_quote():
    current = ReflectionRecord(
        likely_causes=[LikelyCause(cause="skills_gap", evidence="my SQL was weak")]
    )
    reading = RecordReading(
        likely_causes=[LikelyCause(cause="skills_gap", evidence="My SQL was weak.")]
    )
    applied = apply_reading(current, reading, ["something else entirely"])
    assert applied.unsupported == 0
    assert applied.record == current


def test_removals_match_entries_whatever_their_case_and_punctuation():
    current = ReflectionRecord(feedback=["Needs more SQL.", "Great communicator"])
    reading = RecordReading(remove=[Removal(field="feedback", entry="needs more sql")])
    applied = apply_reading(current, reading, [])
    assert applied.record.feedback == ["Great communicator"]
    assert applied.removed == 1


# How often the model is asked (the default: a reading once a stage ends) -------------


def test_each_turn_asks_once_and_the_record_is_read_once_a_stage_ends(
    app_factory: AppFactory, fake_model: FakeModel
):
    app = make_openai_app(app_factory, fake_model, COACH_RECORD_READING="stage_change")
    fake_model.answer_every_turn(["Thank you for telling me."], 0, json.dumps({}))
    api = ApiActions(app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    stages, asked = [], []
    for text in GUIDED_WALK:
        before = (len(fake_model.requests), len(fake_model.crisis_checks))
        response = api.send(token, session_id, text)
        assert response.status_code == 201
        background(app).wait_idle()
        stages.append(response.json["user_message"]["stage"])
        new = fake_model.requests[before[0] :]
        asked.append(
            (
                sum(r.schema_name is None for r in new),
                [r.schema_name for r in new if r.schema_name is not None],
                len(fake_model.crisis_checks) - before[1],
            )
        )
    changed = [n for n in range(1, len(stages)) if stages[n] != stages[n - 1]]
    assert len(changed) == 4  # the walk reaches every stage, by consent
    # The walk's one fold (after the twelfth reply fills the window) waits for the
    # next stage change, whose reading rewrites the summary in the same request.
    window = app.config["COACH_RECENT_MESSAGES"] + app.config["COACH_FOLD_CHUNK"]
    [fold] = [n for n in range(len(GUIDED_WALK)) if 2 * (n + 1) == window]
    combined = min(n for n in changed if n >= fold)
    for n, (replies, structured, checks) in enumerate(asked):
        # One reply and one safety second look every turn; the record is read after
        # the turn that changed the stage, and after no other.
        assert replies == 1, n
        assert checks == 1, n
        reading = "record_and_summary" if n == combined else "reflection_record"
        assert structured == ([reading] if n in changed else []), n
    assert fake_model.summary_requests == []  # never a request of its own


def test_every_turn_reading_asks_after_each_turn(app, api, seeker, fake_model):
    for text in ("I didn't get the job.", "I feel flat about it."):
        turn(app, api, seeker, fake_model, text, {})
    assert len(fake_model.reflection_requests) == 2
    assert fake_model.pending == 0


@pytest.mark.parametrize("careful", [False, True])
def test_no_second_look_is_asked_when_the_session_is_in_careful_mode(
    app, api, seeker, fake_model, careful
):
    token, session_id = seeker
    fake_model.enqueue_stream(["I hear you."])
    fake_model.enqueue_json("{}")
    assert api.send(token, session_id, "I didn't get the job.").status_code == 201
    background(app).wait_idle()
    assert len(fake_model.crisis_checks) == 1
    with database(app).make_session() as db:
        coaching_session = db.get_one(CoachingSession, session_id)
        if careful:
            flag_crisis(db, coaching_session, "crisis", "test")
        through = max(m.id for m in coaching_session.messages)
        db.commit()
    second_check(app, session_id, through, "Is this a crisis?")
    # In careful mode the look could only add the flag the session has: not asked.
    assert len(fake_model.crisis_checks) == (1 if careful else 2)


def test_the_readings_json_schema_is_built_once(app, api, seeker, fake_model, monkeypatch):
    built = []
    original = RecordReading.model_json_schema

    def counted(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    json_schema.cache_clear()
    monkeypatch.setattr(RecordReading, "model_json_schema", counted)
    for text in ("I didn't get the job.", "I feel flat about it.", "They said nothing."):
        turn(app, api, seeker, fake_model, text, {})
    assert len(fake_model.reflection_requests) == 3
    assert len(built) == 1
    json_schema.cache_clear()  # built again, unpatched, by whichever test asks next
