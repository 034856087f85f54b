"""The conversation quality panel, by transparent rules: each coach reply's support
strategy in the terms of the ESConv study, and per session the Motivational
Interviewing ratios that supervisors use.

A reply is cut into sentences and each sentence gets the first strategy whose cues
it shows, in `PRIORITY` order; the reply's label is the highest-priority strategy
among its sentences (a reply that reflects and then asks is a reflection with a
question after it; one that suggests and asks is a suggestion). The MI counts are
by sentence: a question is a sentence that asks; a reflection one that restates
(simple) or names a feeling or meaning the seeker did not say in those words
(complex). Ratings: reflections to questions fair at 1:1, good at 2:1; complex
reflections fair at 40 %, good at 50 % of all reflections.

The cues are plain patterns, listed below for anyone to check; every label says
which cue decided it. When a model labels replies instead (`coach.counsel.labelling`),
its labels are counted by `quality_of` like these, a reply at a time.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from coach.counsel.schema import STRATEGIES, Quality, Ratio, Reflection, StrategyLabel

REFLECTIONS_TO_QUESTIONS = {"fair": 1.0, "good": 2.0}
COMPLEX_SHARE = {"fair": 0.4, "good": 0.5}

FEELINGS = (
    r"disappoint\w*|frustrat\w*|hurt\w*|angr\w*|sad\w*|upset\w*|anxious|anxiety|worr\w*"
    r"|nervous|scared|afraid|ashamed|embarrass\w*|discourag\w*|deflat\w*|crushed|gutted|anger"
    r"|exhaust\w*|tired|drained|lonely|alone|stuck|lost|overwhelm\w*|painful|pain|heavy"
    r"|hopeless\w*|rejected|betrayed|confus\w*|doubt\w*|relie\w*|proud|hopeful|excited|glad"
    r"|stung|sting|blow|shaken|raw|bruised|unfair"
)
_I = re.IGNORECASE
CUES: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    "suggestion": [
        ("you could / you might", re.compile(r"\byou (could|might|may want to|can try)\b", _I)),
        ("try / consider", re.compile(r"^(try|consider|start by|pick|write|ask|make|set)\b", _I)),
        ("it may help to", re.compile(r"\bit (may|might|can|could) help to\b", _I)),
        ("how about / what if you", re.compile(r"\b(how about|what if you|one option)\b", _I)),
        ("I suggest / I recommend", re.compile(r"\bI(?:'d| would)? (suggest|recommend)\b", _I)),
    ],
    "information": [
        (
            "general fact",
            re.compile(
                r"\b(research|studies|study|data|employers (often|usually|typically)"
                r"|many (people|candidates|recruiters)|it is common|it's common|most hiring"
                r"|on average|typically|statistically)\b",
                _I,
            ),
        ),
    ],
    "self_disclosure": [
        (
            "the coach's own experience",
            re.compile(r"\b(I've|I have|I once|when I)\b.*\b(felt|been|was|had)\b", _I),
        ),
    ],
    "reflection_of_feelings": [
        (
            "names a feeling",
            re.compile(
                r"\b(you('re| are)?|you've|you feel|you felt|it sounds|sounds|that must|it must"
                r"|that (is|was|feels)|this (is|was|feels)|what comes through"
                r"|what I am hearing|what I'm hearing)\b[^.?!]*\b(" + FEELINGS + r")\b",
                _I,
            ),
        ),
    ],
    "restatement": [
        (
            "says back what was said",
            re.compile(
                r"\b(so you|you said|you're saying|you are saying|what I hear|if I understand"
                r"|in other words|it sounds like you|sounds like you|you mentioned"
                r"|you've told me|you told me|I heard|from what you describe)\b",
                _I,
            ),
        ),
    ],
    "affirmation": [
        (
            "affirms or reassures",
            re.compile(
                r"\b(it's okay|it is okay|it's ok|that's understandable|understandable"
                r"|makes sense|took courage|takes courage|well done|you did well|that shows"
                r"|you showed|you're not alone|you are not alone|normal to|a real strength"
                r"|good that you|it's great that|great that you|credit|a real achievement"
                r"|glad you)\b",
                _I,
            ),
        ),
    ],
    "question": [("asks", re.compile(r"\?\s*$"))],
}
PRIORITY = (
    "suggestion",
    "information",
    "self_disclosure",
    "reflection_of_feelings",
    "restatement",
    "affirmation",
    "question",
)
REFLECTIONS = ("restatement", "reflection_of_feelings")
RULES_ONLY = "Labelled by the transparent rules; no model labels replies here."
_SENTENCE = re.compile(r"[^.?!\n]+[.?!]*")
assert set(PRIORITY) | {"other"} == set(STRATEGIES)


@dataclass(frozen=True)
class SentenceLabel:
    strategy: str
    cue: str


def label_sentence(sentence: str) -> SentenceLabel:
    text = sentence.strip()
    # A question that opens "would you like to try..." is still a question to MI.
    for strategy in PRIORITY:
        for cue, pattern in CUES[strategy]:
            if pattern.search(text):
                if strategy == "suggestion" and text.endswith("?"):
                    return SentenceLabel("question", "asks (offering an idea)")
                return SentenceLabel(strategy, cue)
    return SentenceLabel("other", "no cue")


def sentences(reply: str) -> list[str]:
    # Markdown list markers and emphasis are not words.
    plain = re.sub(r"^[\s>*\-\d.]+", "", reply, flags=re.MULTILINE).replace("**", "")
    return [s.strip() for s in _SENTENCE.findall(plain) if s.strip(" .")]


@dataclass(frozen=True)
class ReplyCoding:
    """One coach reply as the panel counts it: its label, and what it adds to the MI
    counts (questions asked, reflections, complex ones among them)."""

    label: StrategyLabel
    questions: int
    reflections: int
    complex_reflections: int


def code_reply(reply: str) -> ReplyCoding:
    """The reply labelled and counted by the rules, sentence by sentence."""
    labels = [label_sentence(s) for s in sentences(reply)]
    counts = Counter(label.strategy for label in labels)
    reflections = sum(counts[s] for s in REFLECTIONS)
    complex_ones = counts["reflection_of_feelings"]
    reflection: Reflection | None = "complex" if complex_ones else "simple" if reflections else None
    if not labels:
        label = StrategyLabel(strategy="other", source="rules", reason="no sentences")
    else:
        best = min(labels, key=lambda found: _rank(found.strategy))
        label = StrategyLabel(
            strategy=best.strategy, source="rules", reflection=reflection, reason=best.cue
        )
    return ReplyCoding(label, counts["question"], reflections, complex_ones)


def label_reply(reply: str) -> StrategyLabel:
    return code_reply(reply).label


def _rank(strategy: str) -> int:
    return PRIORITY.index(strategy) if strategy in PRIORITY else len(PRIORITY)


def session_quality(replies: list[str]) -> Quality:
    """The panel for these replies by the rules alone."""
    return quality_of([code_reply(r) for r in replies], RULES_ONLY)


def quality_of(codings: list[ReplyCoding], source_detail: str) -> Quality:
    """The panel for replies however each was labelled; `source` says by whom."""
    by_reply = Counter(c.label.strategy for c in codings)
    questions = sum(c.questions for c in codings)
    reflections = sum(c.reflections for c in codings)
    complex_ones = sum(c.complex_reflections for c in codings)
    sources = {c.label.source for c in codings}
    return Quality(
        source="mixed" if len(sources) > 1 else next(iter(sources), "rules"),
        source_detail=source_detail,
        strategies={s: by_reply[s] for s in STRATEGIES},
        reflections_to_questions=_rated(reflections, questions, REFLECTIONS_TO_QUESTIONS),
        complex_reflections=_rated(complex_ones, reflections, COMPLEX_SHARE),
    )


def _rated(part: int, whole: int, thresholds: dict[str, float]) -> Ratio:
    if whole == 0:
        return Ratio(value=None, rating="n/a")
    value = part / whole
    if value >= thresholds["good"]:
        return Ratio(value=round(value, 2), rating="good")
    if value >= thresholds["fair"]:
        return Ratio(value=round(value, 2), rating="fair")
    return Ratio(value=round(value, 2), rating="low")
