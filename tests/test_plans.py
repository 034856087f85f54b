"""Action plans in guided mode over the API: generation from a scripted conversation
per cause, versions, editing and ticking off, the journal, check-ins, exports,
other people's plans, bad input, and plans going with their session."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from flask import Flask
from icalendar import Calendar
from sqlalchemy import func, select

from coach.guide.frameworks import frameworks
from coach.plans.schema import HORIZONS, MAX_JOURNAL_CHARS
from coach.storage.database import database
from coach.storage.models import PLAN_TEXT_CHARS, JournalEntry, MoodCheckin, Plan, PlanStep
from coach.web.schemas import PlanCreate
from tests.conftest import ApiActions
from tests.conversations import GUIDED_WALK
from tests.plan_actions import TODAY, fix_today, make_plan
from tests.test_privacy import _anywhere_on_disk

# A scripted conversation that names each cause in the map, and confirms what the
# coach heard (the record holds only what the seeker confirmed).
CONFIRM = "Yes, that's right"
NAMING = {
    "skills_gap": ["I feel gutted.", "They said my SQL skills were not strong enough.", CONFIRM],
    "culture_fit": [
        "I feel low.",
        "They felt I was not a good fit for the team culture.",
        CONFIRM,
    ],
    "preparation": [
        "I feel embarrassed.",
        "I went blank and was unprepared for their questions.",
        CONFIRM,
    ],
    "qualification_mismatch": [
        "I feel confused.",
        "They said I was overqualified for it.",
        CONFIRM,
    ],
    "competition": ["I feel crushed.", "They went with an internal candidate.", CONFIRM],
    "unknown": ["I feel lost.", "They didn't give a reason, just a generic email.", CONFIRM],
}


@pytest.fixture
def app(app_factory) -> Flask:
    made = app_factory()
    fix_today(made)
    return made


def converse(api: ApiActions, messages: list[str]) -> tuple[str, int]:
    token = api.guest()
    session_id = api.new_session(token)
    for text in messages:
        assert api.send(token, session_id, text).status_code == 201
    return token, session_id


@pytest.fixture
def walked(api: ApiActions) -> tuple[str, int, dict]:
    """A guided conversation walked to the end, and its plan."""
    token, session_id = converse(api, GUIDED_WALK)
    response = make_plan(api, token, session_id)
    assert response.status_code == 201, response.json
    return token, session_id, response.json


def steps_of(plan: dict) -> list[dict]:
    return [step for goal in plan["goals"] for step in goal["steps"]]


def test_a_scripted_conversation_names_every_cause_in_the_map(app):
    assert set(NAMING) == set(frameworks(app).catalogue.causes)


@pytest.mark.parametrize("cause", sorted(NAMING))
def test_a_guided_plan_follows_the_cause_the_seeker_named(app, api, cause):
    token, session_id = converse(api, NAMING[cause])
    plan = make_plan(api, token, session_id).json
    named = {c["cause"] for c in plan["insights"]["likely_causes"]} or {"unknown"}
    assert cause in named
    loaded = frameworks(app)
    categories = {goal["category"] for goal in plan["goals"]}
    most_fitting = loaded.catalogue.strategies[loaded.catalogue.causes[cause].strategies[0]]
    assert most_fitting.category in categories
    assert most_fitting.resource_kind in {r["kind"] for g in plan["goals"] for r in g["resources"]}
    assert 2 <= len(plan["goals"]) <= 4
    assert plan["model"] == "guided"


def test_a_skills_gap_brings_courses_and_competition_brings_distinctive_strengths(app, api):
    token, session_id = converse(api, NAMING["skills_gap"])
    skills = make_plan(api, token, session_id).json
    assert {"course"} <= {r["kind"] for g in skills["goals"] for r in g["resources"]}
    token, session_id = converse(api, NAMING["competition"])
    competition = make_plan(api, token, session_id).json
    assert "Show your distinctive strengths" in [g["title"] for g in competition["goals"]]


def test_a_guided_plan_is_personal_dated_and_honest(walked):
    _token, _session_id, plan = walked
    # The seeker's own words make the goal and its reason.
    first = plan["goals"][0]
    assert first["title"] == "Show my distinctive strengths more clearly in applications"
    assert "I want to show my distinctive strengths" in first["why"]
    assert "My friend Sam will check in with me every Friday." in plan["support"]
    routine = " ".join(plan["routine"]).lower()
    for part in ("job search", "rest", "sleep"):
        assert part in routine
    # The seeker's own morning walk is their exercise: no second exercise line. No
    # goal here is about learning a skill: no "skill time" either.
    assert "every morning i will walk" in routine
    assert "exercise:" not in routine and "skill time" not in routine
    review_on = TODAY + timedelta(weeks=4)
    assert plan["review_on"] == review_on.isoformat()
    for goal in plan["goals"]:
        assert goal["why"]
        assert 2 <= len(goal["steps"]) <= 4
        dues = [date.fromisoformat(s["due"]) for s in goal["steps"]]
        assert dues[0] < TODAY + timedelta(days=7), "the first step is due this week"
        assert all(TODAY <= d <= review_on for d in dues)
        assert dues == sorted(dues)
        # Each step follows on from the one before: a week later, not weeks behind it.
        assert [(b - a).days for a, b in pairwise(dues)] == [7] * (len(dues) - 1)
    assert "guarantee" in plan["disclaimer"] and "not a therapist" in plan["disclaimer"]


@pytest.mark.parametrize("weeks", HORIZONS)
def test_the_horizon_sets_the_review_date_and_bounds_every_step(app, api, weeks):
    token, session_id = converse(api, NAMING["skills_gap"])
    plan = make_plan(api, token, session_id, horizon_weeks=weeks).json
    end = TODAY + timedelta(weeks=weeks)
    assert plan["review_on"] == end.isoformat()
    assert plan["horizon_weeks"] == weeks
    assert max(date.fromisoformat(s["due"]) for s in steps_of(plan)) <= end


def test_the_request_shape_offers_the_horizons_the_plans_accept():
    assert PlanCreate.model_json_schema()["properties"]["horizon_weeks"]["enum"] == list(HORIZONS)


def test_generating_again_makes_a_new_version_and_keeps_the_old(api, walked):
    token, session_id, first = walked
    step = steps_of(first)[0]
    api.client.patch(
        f"/api/v1/plans/{first['id']}/steps/{step['id']}",
        headers=api.headers(token),
        json={"done": True},
    )
    second = make_plan(api, token, session_id, horizon_weeks=8).json
    assert second["version"] == 2
    assert second["progress"]["done"] == 0
    url = f"/api/v1/sessions/{session_id}"
    latest = api.client.get(f"{url}/plan", headers=api.headers(token)).json
    assert latest["id"] == second["id"]
    old = api.client.get(f"{url}/plan?version=1", headers=api.headers(token)).json
    assert old["id"] == first["id"] and old["progress"]["done"] == 1
    versions = api.client.get(f"{url}/plans", headers=api.headers(token)).json["items"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["progress"]["done"] == 1
    missing = api.client.get(f"{url}/plan?version=9", headers=api.headers(token))
    assert missing.status_code == 404


def test_ticking_editing_adding_and_removing_steps(api, walked):
    token, _session_id, plan = walked
    base = f"/api/v1/plans/{plan['id']}"
    goal = plan["goals"][0]
    step = goal["steps"][0]
    headers = api.headers(token)

    ticked = api.client.patch(f"{base}/steps/{step['id']}", headers=headers, json={"done": True})
    assert ticked.status_code == 200
    shown = ticked.json["goals"][0]["steps"][0]
    assert shown["done"] is True and shown["done_at"]
    assert ticked.json["progress"]["done"] == 1
    assert ticked.json["progress"]["next_step"]["id"] != step["id"]

    edited = api.client.patch(
        f"{base}/steps/{step['id']}",
        headers=headers,
        json={"title": "Ask Sam and Jo", "due": "2025-03-06", "done": False},
    ).json["goals"][0]["steps"][0]
    assert edited == {**edited, "title": "Ask Sam and Jo", "due": "2025-03-06", "done": False}
    assert edited["done_at"] is None

    added = api.client.post(
        f"{base}/goals/{goal['id']}/steps",
        headers=headers,
        json={"title": "Update my profile", "due": "2025-03-20"},
    )
    assert added.status_code == 201
    new_step = added.json["goals"][0]["steps"][-1]
    assert (new_step["title"], new_step["due"]) == ("Update my profile", "2025-03-20")
    assert added.json["progress"]["total"] == plan["progress"]["total"] + 1

    retitled = api.client.patch(
        f"{base}/goals/{goal['id']}", headers=headers, json={"title": "Stand out in applications"}
    )
    assert retitled.json["goals"][0]["title"] == "Stand out in applications"

    removed = api.client.delete(f"{base}/steps/{new_step['id']}", headers=headers)
    assert removed.status_code == 200
    assert new_step["id"] not in [s["id"] for s in steps_of(removed.json)]
    assert removed.json["progress"]["total"] == plan["progress"]["total"]


def test_a_journal_entry_and_mood_checkins_are_stored(app, api, walked):
    token, session_id, plan = walked
    headers = api.headers(token)
    entry = api.client.post(
        f"/api/v1/plans/{plan['id']}/journal",
        headers=headers,
        json={"kind": "went_well", "body": "Sam gave me three strengths."},
    )
    assert entry.status_code == 201
    assert entry.json["journal"][0]["body"] == "Sam gave me three strengths."
    for moment, score in (("start", 2), ("end", 4)):
        checkin = api.client.post(
            f"/api/v1/sessions/{session_id}/checkins",
            headers=headers,
            json={"moment": moment, "score": score},
        )
        assert checkin.status_code == 201
        assert (checkin.json["moment"], checkin.json["score"]) == (moment, score)
    export = api.client.get("/api/v1/me/export", headers=headers).json
    assert [c["score"] for c in export["checkins"]] == [2, 4]
    assert export["plans"][0]["journal"][0]["kind"] == "went_well"
    assert export["plans"][0]["goals"] == plan["goals"]


PADDED_JOURNAL = " " * MAX_JOURNAL_CHARS + "x"


@pytest.mark.parametrize(
    ("method", "path", "body", "wrong"),
    [
        ("post", "/sessions/{s}/plan", {"horizon_weeks": 3}, "horizon_weeks"),
        ("post", "/sessions/{s}/plan", {"horizon_weeks": "4"}, "horizon_weeks"),
        ("patch", "/plans/{p}/steps/{st}", {"due": "next week"}, "due"),
        ("patch", "/plans/{p}/steps/{st}", {"due": "2025-02-30"}, "due"),
        ("patch", "/plans/{p}/steps/{st}", {"title": "   "}, "title"),
        ("patch", "/plans/{p}/steps/{st}", {"done": "yes"}, "done"),
        ("patch", "/plans/{p}/steps/{st}", {}, "at least one"),
        ("post", "/plans/{p}/goals/{g}/steps", {"title": "", "due": "2025-03-05"}, "title"),
        ("post", "/plans/{p}/goals/{g}/steps", {"title": "Go", "due": "soon"}, "due"),
        ("patch", "/plans/{p}/goals/{g}", {"title": ""}, "title"),
        # Found by schemathesis: a number was read as seconds since 1970, and a title
        # padded past the limit was cut down to fit instead of refused.
        ("patch", "/plans/{p}/steps/{st}", {"due": 0.0}, "due"),
        ("post", "/plans/{p}/goals/{g}/steps", {"title": "Go", "due": 1767225600}, "due"),
        ("patch", "/plans/{p}/goals/{g}", {"title": "Go" + " " * PLAN_TEXT_CHARS}, "title"),
        ("post", "/plans/{p}/journal", {"kind": "learned", "body": PADDED_JOURNAL}, "body"),
        ("post", "/plans/{p}/journal", {"kind": "mood", "body": "x"}, "kind"),
        ("post", "/sessions/{s}/checkins", {"moment": "start", "score": 6}, "score"),
        ("post", "/sessions/{s}/checkins", {"moment": "middle", "score": 3}, "moment"),
    ],
)
def test_bad_input_is_a_400_that_names_the_field(api, walked, method, path, body, wrong):
    token, session_id, plan = walked
    goal = plan["goals"][0]
    url = "/api/v1" + path.format(
        s=session_id, p=plan["id"], st=goal["steps"][0]["id"], g=goal["id"]
    )
    response = getattr(api.client, method)(url, headers=api.headers(token), json=body)
    assert response.status_code == 400, response.json
    assert wrong in response.json["error"]["message"]


def test_other_peoples_plans_steps_and_sessions_are_404s(api, walked):
    owner, session_id, plan = walked
    stranger = api.guest()
    step = steps_of(plan)[0]
    goal = plan["goals"][0]
    attempts = [
        ("get", f"/sessions/{session_id}/plan", None),
        ("get", f"/sessions/{session_id}/plans", None),
        ("get", f"/sessions/{session_id}/plan.md", None),
        ("get", f"/sessions/{session_id}/plan.ics", None),
        ("post", f"/sessions/{session_id}/plan", None),
        ("post", f"/sessions/{session_id}/checkins", {"moment": "end", "score": 3}),
        ("patch", f"/plans/{plan['id']}/steps/{step['id']}", {"done": True}),
        ("delete", f"/plans/{plan['id']}/steps/{step['id']}", None),
        ("post", f"/plans/{plan['id']}/goals/{goal['id']}/steps", {"title": "x", "due": None}),
        ("patch", f"/plans/{plan['id']}/goals/{goal['id']}", {"title": "Mine now"}),
        ("post", f"/plans/{plan['id']}/journal", {"kind": "learned", "body": "x"}),
    ]
    for method, path, body in attempts:
        response = getattr(api.client, method)(
            "/api/v1" + path, headers=api.headers(stranger), json=body
        )
        assert response.status_code == 404, (method, path)
        assert response.json["error"]["code"] == "not_found"
    unchanged = api.client.get(f"/api/v1/sessions/{session_id}/plan", headers=api.headers(owner))
    assert unchanged.json == plan


def test_a_step_or_goal_of_another_own_plan_is_bad_input_and_of_anybody_elses_a_404(api, walked):
    token, session_id, plan = walked
    token2, session2 = converse(api, NAMING["competition"])
    other = make_plan(api, token2, session2).json
    # The same seeker's second version: its step and goal used on the first.
    own_second = make_plan(api, token, session_id).json
    headers = api.headers(token)
    base = f"/api/v1/plans/{plan['id']}"
    own_step = steps_of(own_second)[0]["id"]
    own_goal = own_second["goals"][0]["id"]
    attempts = [
        ("patch", f"{base}/steps/{own_step}", {"done": True}),
        ("delete", f"{base}/steps/{own_step}", None),
        ("patch", f"{base}/goals/{own_goal}", {"title": "Mine"}),
        ("post", f"{base}/goals/{own_goal}/steps", {"title": "x", "due": None}),
    ]
    for method, url, body in attempts:
        response = getattr(api.client, method)(url, headers=headers, json=body)
        assert response.status_code == 400, (method, url, response.json)
        assert response.json["error"]["code"] == "not_in_this_plan"
        assert "another of your plans (version 2" in response.json["error"]["message"]
    # Somebody else's step or goal is a 404, exactly like one that does not exist.
    foreign_step = steps_of(other)[0]["id"]
    foreign_goal = other["goals"][0]["id"]
    for method, url, body in [
        ("patch", f"{base}/steps/{foreign_step}", {"done": True}),
        ("patch", f"{base}/steps/{10**6}", {"done": True}),
        ("post", f"{base}/goals/{foreign_goal}/steps", {"title": "x", "due": None}),
        ("patch", f"{base}/goals/{foreign_goal}", {"title": "Mine"}),
    ]:
        response = getattr(api.client, method)(url, headers=headers, json=body)
        assert response.status_code == 404, (method, url, response.json)
        assert response.json["error"]["code"] == "not_found"
    # Nothing changed anywhere.
    for owner, session, shown in ((token, session_id, own_second), (token2, session2, other)):
        now = api.client.get(f"/api/v1/sessions/{session}/plan", headers=api.headers(owner))
        assert now.json == shown


def test_no_plan_yet_is_a_404(api):
    token, session_id = converse(api, ["I feel sad."])
    response = api.client.get(f"/api/v1/sessions/{session_id}/plan", headers=api.headers(token))
    assert response.status_code == 404
    assert "no plan" in response.json["error"]["message"]


def test_the_markdown_export_holds_every_goal_and_step(api, walked):
    token, session_id, plan = walked
    step = steps_of(plan)[0]
    api.client.patch(
        f"/api/v1/plans/{plan['id']}/steps/{step['id']}",
        headers=api.headers(token),
        json={"done": True},
    )
    response = api.client.get(f"/api/v1/sessions/{session_id}/plan.md", headers=api.headers(token))
    assert response.status_code == 200
    assert response.mimetype == "text/markdown"
    text = response.get_data(as_text=True)
    for goal in plan["goals"]:
        assert goal["title"] in text
        for s in goal["steps"]:
            assert s["title"] in text
            assert s["due"] in text
    assert f"- [x] {step['title']}" in text
    assert plan["disclaimer"] in text


def test_the_calendar_export_is_valid_icalendar_with_one_event_per_dated_step(api, walked):
    token, session_id, plan = walked
    goal = plan["goals"][0]
    headers = api.headers(token)
    base = f"/api/v1/plans/{plan['id']}"
    tricky = "Call Jo; ask about the team, and\\or the role"
    api.client.post(
        f"{base}/goals/{goal['id']}/steps",
        headers=headers,
        json={"title": tricky, "due": "2025-03-21"},
    )
    api.client.post(
        f"{base}/goals/{goal['id']}/steps", headers=headers, json={"title": "Some day", "due": None}
    )
    response = api.client.get(f"/api/v1/sessions/{session_id}/plan.ics", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    raw = response.get_data()
    assert raw.endswith(b"\r\n")
    assert all(line.endswith(b"\r") for line in raw.split(b"\n")[:-1]), "CRLF line endings"
    assert all(len(line) <= 76 for line in raw.split(b"\n")), "folded at 75 octets"

    calendar = Calendar.from_ical(raw)
    events = list(calendar.walk("VEVENT"))
    dated = [
        s
        for g in api.client.get(f"/api/v1/sessions/{session_id}/plan", headers=headers).json[
            "goals"
        ]
        for s in g["steps"]
        if s["due"]
    ]
    assert len(events) == len(dated) == len(steps_of(plan)) + 1
    assert len({str(e["UID"]) for e in events}) == len(events)
    for event in events:
        assert "DTSTAMP" in event
        start = event.decoded("DTSTART")
        assert isinstance(start, date) and event.decoded("DTEND") == start + timedelta(days=1)
    summaries = {str(e["SUMMARY"]): e.decoded("DTSTART") for e in events}
    assert summaries[tricky] == date(2025, 3, 21)


def test_deleting_a_session_or_the_user_deletes_their_plans(app, api, walked):
    token, session_id, plan = walked
    api.client.post(
        f"/api/v1/plans/{plan['id']}/journal",
        headers=api.headers(token),
        json={"kind": "learned", "body": "x"},
    )
    api.client.post(
        f"/api/v1/sessions/{session_id}/checkins",
        headers=api.headers(token),
        json={"moment": "start", "score": 3},
    )
    other_token, other_session = converse(api, NAMING["competition"])
    make_plan(api, other_token, other_session)

    def counts() -> tuple[int, ...]:
        with database(app).make_session() as db:
            return tuple(
                db.scalar(select(func.count()).select_from(table)) or 0
                for table in (Plan, PlanStep, JournalEntry, MoodCheckin)
            )

    before = counts()
    assert (
        api.client.delete(f"/api/v1/sessions/{session_id}", headers=api.headers(token)).status_code
        == 204
    )
    after = counts()
    assert after[0] == before[0] - 1 and after[2:] == (0, 0)
    assert api.client.delete("/api/v1/me", headers=api.headers(other_token)).status_code == 204
    assert counts() == (0, 0, 0, 0)


def test_a_deleted_plan_leaves_no_words_in_the_sqlite_files(app, api, walked):
    token, session_id, plan = walked
    marker = "okapi-lantern-5521"
    goal = plan["goals"][0]
    api.client.patch(
        f"/api/v1/plans/{plan['id']}/goals/{goal['id']}",
        headers=api.headers(token),
        json={"title": f"Learn {marker}"},
    )
    assert _anywhere_on_disk(app, marker)
    api.client.delete(f"/api/v1/sessions/{session_id}", headers=api.headers(token))
    assert not _anywhere_on_disk(app, marker)


# The guided plan's goals: the seeker's own first -------------------------------------


def _guided_draft(app: Flask, record):
    from coach.plans.generation import plan_rules
    from coach.plans.guided import build_guided_draft
    from coach.plans.schema import validate_draft
    from coach.plans.templates import plan_templates

    with app.app_context():
        rules = plan_rules(app, record, 4)
        draft = build_guided_draft(record, frameworks(app), plan_templates(app), rules, 4)
    validate_draft(draft.model_dump(mode="json"), rules)  # keeps the plan's rules
    return draft


def test_every_goal_the_seeker_stated_is_in_the_plan_in_their_words(app):
    from coach.guide.record import ReflectionRecord

    record = ReflectionRecord(
        likely_causes=[{"cause": "preparation", "evidence": "I rambled and froze."}],
        goals=[
            "I want to do two mock interviews a week.",
            "I also plan to set up my own small service with monitoring and alerts.",
        ],
    )
    draft = _guided_draft(app, record)
    titles = [goal.title for goal in draft.goals]
    assert titles == [
        "Do two mock interviews a week",
        "Set up my own small service with monitoring and alerts",
    ]
    # The first is about mock interviews: their steps, and it answers the cause.
    assert "mock interview" in draft.goals[0].steps[0].title
    # The second is about nothing the strategies hold: plain steps, not another's.
    assert draft.goals[1].steps[0].title.startswith("Write down the first small step")


def test_a_cause_no_stated_goal_answers_gets_its_strategy_and_room_is_kept_for_it(app):
    from coach.guide.record import ReflectionRecord

    goals = [
        "I want to journal every evening.",
        "I will call my old manager for a chat.",
        "I want to repaint my flat.",
        "I will walk the dog every morning.",
        "I want to learn to bake bread.",
    ]
    record = ReflectionRecord(
        likely_causes=[{"cause": "skills_gap", "evidence": "They said my SQL was weak."}],
        goals=goals,
    )
    draft = _guided_draft(app, record)
    assert len(draft.goals) == 4
    assert draft.goals[-1].category == "skills"  # the gap is answered
    assert [g.title for g in draft.goals[:3]] == [
        "Journal every evening",
        "Call my old manager for a chat",
        "Repaint my flat",
    ]


def test_a_cause_chosen_by_its_label_is_not_quoted_as_the_seekers_words(app):
    from coach.guide.record import CHOSEN_EVIDENCE, ReflectionRecord

    record = ReflectionRecord(likely_causes=[{"cause": "competition", "evidence": CHOSEN_EVIDENCE}])
    draft = _guided_draft(app, record)
    assert all(CHOSEN_EVIDENCE not in goal.why for goal in draft.goals)


def test_skill_time_comes_with_a_learning_goal_and_exercise_unless_the_seeker_has_some(app):
    from coach.guide.record import ReflectionRecord

    record = ReflectionRecord(
        likely_causes=[{"cause": "skills_gap", "evidence": "They said my SQL was weak."}]
    )
    routine = " ".join(_guided_draft(app, record).routine).lower()
    assert "skill time" in routine and "exercise:" in routine


def test_a_goal_that_is_also_listed_as_support_stays_a_goal(app):
    from coach.guide.record import ReflectionRecord

    goal = "I want to practise interviews with a friend."
    record = ReflectionRecord(
        likely_causes=[{"cause": "preparation", "evidence": "I rambled."}],
        goals=[goal],
        support=[goal],
    )
    titles = [g.title for g in _guided_draft(app, record).goals]
    assert titles[0] == "Practise interviews with a friend"


def test_a_cause_picked_by_its_label_is_named_not_quoted_on_the_plan(client):
    """The plan page and its Markdown name the cause; a cause the seeker picked from
    the choices is said to be their choice, not quoted as words they wrote."""
    from tests.test_security import _browser_session

    csrf = {"X-CSRF-Token": _browser_session(client)}
    session_id = client.get("/api/v1/sessions").json["items"][0]["id"]
    client.patch(f"/api/v1/sessions/{session_id}", json={"stage": "causes"}, headers=csrf)
    for said in ("Strong competition", "write my plan"):
        client.post(f"/api/v1/sessions/{session_id}/messages", json={"content": said}, headers=csrf)
    markdown = client.get(f"/api/v1/sessions/{session_id}/plan.md").get_data(as_text=True)
    assert "- Likely cause (competition), chosen by you" in markdown
    page = client.get(f"/chat/{session_id}/plan").get_data(as_text=True)
    assert "A likely cause: strong competition, which you chose" in page
    assert "Chosen by the seeker" not in markdown + page


@pytest.mark.parametrize(
    ("goal", "category"),
    [
        ("I want to get properly good at advanced SQL and window functions.", "skills"),
        ("I want to only apply to places with a short hiring process.", "applications"),
        ("I will swim three times a week.", "wellbeing"),
        ("I want to believe in myself again.", "mindset"),
    ],
)
def test_a_stated_goal_no_strategy_fits_takes_the_category_its_words_name(app, goal, category):
    """A skills goal in the seeker's own words answers a skills gap: the plan does
    not add a course beside it as if the gap were unanswered."""
    from coach.guide.record import ReflectionRecord

    record = ReflectionRecord(
        likely_causes=[{"cause": "skills_gap", "evidence": "They said my SQL was weak."}],
        goals=[goal],
    )
    draft = _guided_draft(app, record)
    assert draft.goals[0].category == category
    answers_the_gap = category == "skills"
    assert ("Take a focused course" in [g.title for g in draft.goals]) is not answers_the_gap


def test_a_plan_with_no_cause_found_says_so_rather_than_what_we_found(app):
    from coach.guide.record import ReflectionRecord

    draft = _guided_draft(app, ReflectionRecord(emotions=["disappointment"]))
    whys = " ".join(goal.why for goal in draft.goals)
    assert "We have not found the reason" in whys
    assert "what we found together: not known yet" not in whys.lower()


def test_the_seekers_own_job_search_routine_takes_the_place_of_the_default_one(app):
    from coach.guide.record import ReflectionRecord

    record = ReflectionRecord(routine=["Every weekday I'll job hunt from 9 to 12."])
    routine = " ".join(_guided_draft(app, record).routine)
    assert "job hunt from 9 to 12" in routine
    assert "two focused blocks" not in routine


def test_a_plan_does_not_ask_for_feedback_the_seeker_already_has(app):
    from coach.guide.record import ReflectionRecord

    record = ReflectionRecord(feedback=["They said they went another way."], cause_unknown=True)
    titles = [goal.title for goal in _guided_draft(app, record).goals]
    assert "Ask the employer for feedback" not in titles
    assert titles, "the unknown reason's other strategies still make the plan"


@pytest.mark.parametrize(
    ("goal", "category"),
    [
        ("Restart my search properly", "mindset"),
        ("Break the cycle of negative self-talk", "mindset"),
        ("Learn to be kinder to myself", "mindset"),
        ("Practise self-compassion", "mindset"),
        ("Learn SQL window functions", "skills"),
        ("Go running three mornings a week", "wellbeing"),
    ],
)
def test_a_goals_category_is_read_from_whole_words(app, goal, category):
    from coach.plans.templates import plan_templates

    with app.app_context():
        assert plan_templates(app).own_goal.category_of(goal) == category


@pytest.mark.parametrize("weeks", HORIZONS)
@pytest.mark.parametrize("count", [2, 3, 4])
@pytest.mark.parametrize("offset", [0, 3])
def test_steps_follow_each_other_at_most_a_week_apart_within_any_horizon(weeks, count, offset):
    from coach.plans.guided import step_dates

    review_on = TODAY + timedelta(weeks=weeks)
    dues = step_dates(TODAY, review_on, count, offset)
    gaps = [(b - a).days for a, b in pairwise(dues)]
    assert dues[0] < TODAY + timedelta(days=7), "the first step is due this week"
    assert all(1 <= gap <= 7 for gap in gaps), gaps  # in order, no two on one day
    assert dues[-1] < review_on
