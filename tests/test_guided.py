"""Guided mode: the dialogue's move put into the coach's own words, drawn from the
frameworks; never the seeker's words given back."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from coach.guide.frameworks import STAGES, frameworks
from coach.guide.move import Move
from coach.guide.record import LikelyCause, ReflectionRecord
from coach.providers import Completion, GuidedPrompt, provider
from coach.providers.guided import GuidedProvider


def _reply(app, move: Move, text: str = "Something I said.", record=None) -> str:
    prompt = GuidedPrompt(
        user_message=text, stage=move.stage, record=record or ReflectionRecord(), move=move
    )
    completion = Completion()
    reply = "".join(provider(app).stream_reply(prompt, completion))
    assert completion.model == "guided"
    return reply


def test_the_same_move_gets_the_same_reply(app):
    move = Move(stage="emotions", ask="question", question=1)
    assert _reply(app, move) == _reply(app, move)


@pytest.mark.parametrize("summarise", [True, False])
@pytest.mark.parametrize("stage", STAGES[1:])
def test_entering_a_stage_summarises_the_last_and_opens_the_next(app, stage, summarise):
    """Summarised on the way in, unless the last reply did so as it asked to move on."""
    previous = STAGES[STAGES.index(stage) - 1]
    record = ReflectionRecord(emotions=["disappointment"])
    move = Move(
        stage=stage, left_stage=previous, ask="question", answer="moved", summarise=summarise
    )
    move = move.model_copy(update={"kind": "plan"}) if stage == "plan" else move
    reply = _reply(app, move, "Move on", record)
    # A stage's summary ("Here is what we found..."), not the plan's recap after it.
    said = re.search(r"Here is what (?!we have for your plan)|not pinned much down", reply)
    assert bool(said) is summarise
    if stage != "plan":
        assert frameworks(app).stage(stage).opening in reply


def test_proposals_are_reflected_in_the_coachs_words_and_checked(app):
    proposed = ReflectionRecord(
        emotions=["disappointment", "self-doubt"],
        likely_causes=[LikelyCause(cause="skills_gap", evidence="I froze on the SQL exercise.")],
    )
    move = Move(stage="emotions", proposed=proposed, ask="confirm")
    reply = _reply(app, move, "I froze on the SQL exercise.")
    assert "disappointment, and some self-doubt" in reply
    assert "**skills or experience gap**" in reply
    assert reply.split("\n\n")[0].endswith("Is that right?")
    assert "froze on the SQL" not in reply


def test_later_turns_ask_the_stage_questions(app):
    questions = frameworks(app).stage("resilience").questions
    assert questions[0].text in _reply(app, Move(stage="resilience", ask="question", question=0))
    assert questions[1].text in _reply(app, Move(stage="resilience", ask="question", question=1))


def test_improvement_names_the_cause_and_its_strategies_together(app):
    record = ReflectionRecord(likely_causes=[LikelyCause(cause="skills_gap", evidence="SQL")])
    move = Move(stage="improvement", left_stage="causes", ask="question", answer="moved")
    reply = _reply(app, move, "Move on", record)
    assert "**skills or experience gap**" in reply
    for strategy in frameworks(app).strategies_for("skills_gap"):
        assert strategy.name in reply
    for other in frameworks(app).strategies_for("competition"):
        assert other.name not in reply


def test_an_offered_item_is_shown_by_name(app):
    move = Move(stage="resilience", ask="question", offer=["resilience/routine/basics"])
    item = frameworks(app).stage("resilience").section("routine").item("basics")
    assert f"**{item.name}.**" in _reply(app, move)


def test_the_recruiter_draft_is_a_polite_blockquote(app):
    reply = _reply(app, Move(stage="causes", kind="recruiter"), "help me reply to the recruiter")
    quoted = [line for line in reply.splitlines() if line.startswith(">")]
    assert quoted
    draft = " ".join(quoted).lower()
    assert "thank" in draft and "feedback" in draft
    assert "close a door" in reply


def test_a_break_says_the_conversation_is_kept(app):
    assert "kept" in _reply(app, Move(stage="causes", kind="break"), "I need a break")


@pytest.mark.parametrize("code", ["es", "fr", "de", "pt", "it"])
def test_another_language_gets_its_fixed_line(app, code):
    data = tomllib.loads((Path(app.config["COACH_PROMPTS_DIR"]) / "guided.toml").read_text())
    reply = _reply(app, Move(stage="emotions", kind="language", language=code))
    assert reply == data["languages"][code]["line"]


def test_wording_varies_with_content(app):
    openings = {
        _reply(app, Move(stage="emotions", ask="question"), f"Something else {n}").split("\n\n")[0]
        for n in range(12)
    }
    assert len(openings) > 1


def test_the_wording_file_must_have_every_table(app):
    with pytest.raises(ValueError, match=r"guided\.toml"):
        GuidedProvider(frameworks(app), {"reflect": {}})


def test_a_strength_or_goal_heard_beside_a_cause_says_what_it_is_about(app):
    """After "one likely cause is a skills gap", a bare "That sounds like a real
    strength" would call the gap a strength."""
    proposed = ReflectionRecord(
        likely_causes=[LikelyCause(cause="skills_gap", evidence="I lacked research experience.")],
        strengths=["My portfolio was strong."],
        goals=["I want to lead a team."],
    )
    reply = _reply(app, Move(stage="causes", proposed=proposed, ask="confirm"))
    opening = reply.split("\n\n")[0]
    later_sentences = re.split(r"(?<=[.!?])\s+", opening)[1:]
    assert not any(sentence.startswith("That ") for sentence in later_sentences)
    assert "a strength in what you said" in opening
    # What would be recorded is shown, each entry with its kind, before the check.
    preview = reply.split("\n\n")[1:]
    assert preview[0] == "Here is what I would add to your record:"
    assert preview[1] == (
        "- **A strength:** My portfolio was strong.\n- **A goal:** I want to lead a team."
    )
    assert preview[2] == "Is that right?"


def test_the_words_shown_for_the_record_are_plain_text(app):
    proposed = ReflectionRecord(goals=["I want to **learn** [SQL](javascript:alert(1)) <b>now</b>"])
    reply = _reply(app, Move(stage="improvement", proposed=proposed, ask="confirm"))
    shown = r"I want to \*\*learn\*\* \[SQL\](javascript:alert(1)) \<b\>now\</b\>"
    assert f"- **A goal:** {shown}" in reply


def test_two_causes_heard_are_said_in_one_sentence(app):
    proposed = ReflectionRecord(
        likely_causes=[
            LikelyCause(cause="skills_gap", evidence="I froze on the SQL exercise."),
            LikelyCause(cause="preparation", evidence="I froze on the SQL exercise."),
        ]
    )
    reply = _reply(app, Move(stage="causes", ask="confirm", proposed=proposed))
    assert reply.count("From what you describe") == 1
    assert "**skills or experience gap** and **preparation and presentation**" in reply


@pytest.mark.parametrize(
    ("emotions", "about"),
    [
        (["anger or frustration"], "anger or frustration about how it was handled."),
        (["disappointment", "self-doubt"], "some self-doubt about what you can do."),
        (["numb"], "feeling numb after this news."),
    ],
)
def test_a_feeling_is_named_with_what_it_is_about(app, emotions, about):
    proposed = ReflectionRecord(emotions=emotions)
    reply = _reply(app, Move(stage="emotions", proposed=proposed, ask="confirm"))
    assert about in reply


def test_improvement_with_feedback_but_no_cause_does_not_say_ask_for_it(app):
    record = ReflectionRecord(feedback=["They said they went another way."])
    move = Move(
        stage="improvement",
        left_stage="causes",
        ask="question",
        answer="moved",
        skipped_strategies=["feedback_request"],
    )
    reply = _reply(app, move, "Move on", record)
    assert "When the reason is unclear" not in reply
    assert "What the employer told you" in reply
    assert "Ask the employer for feedback" not in reply
