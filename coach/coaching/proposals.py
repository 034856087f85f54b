"""Propose, confirm, record: what a message proposes for the reflection record, and
what of a proposal the seeker's answer keeps.

The keyword rules (`coach.coaching.keyword_rules`) only guess; their guesses wait in
the dialogue's pending state until the seeker confirms them. Two things go into
the record at once because they are the seeker's own statements: feedback they
report from the employer, and a feeling or cause they name by its label (a
quick reply, or "mostly disappointment"). Feedback outranks guesses: when what the
employer said points to a cause, a keyword guess of strong competition is dropped.
"""

from __future__ import annotations

import re

from coach.guide.frameworks import Frameworks
from coach.guide.record import CHOSEN_EVIDENCE, LikelyCause, ReflectionRecord, split_sentences

# A label right after one of these is denied, not named ("not angry"), or taken
# back ("remove anger", "take the anger out").
NEGATION = re.compile(
    r"(?:\bnot|\bno|n't|\bnever|\bnor|\bremove|\bdelete|\bdrop|\berase|\btake"
    # "More disappointment than embarrassment", "relief rather than anger": the
    # second is taken back ("less embarrassed than disappointed" takes back nothing).
    r"|\bmore\s+[\w-]+\s+than|\brather than|\binstead of"
    # "I don't think it was a skills gap".
    r"|n't\s+(?:think|believe|reckon|feel)(?:\s+\w+){0,3})(?:\s+\w+)?\s*$"
)
# "Not only relief" and "not just anger" deny nothing: they add to it.
NOT_ONLY = re.compile(r"\bnot (?:only|just|merely)\s*$")
# A feeling that has passed is not taken back: it was felt ("not angry anymore").
PASSED = re.compile(r"\b(?:anymore|any more|no longer)\b")
FEELING_ALIASES = {
    "disappointment": ("disappointment", "disappointed"),
    "self-doubt": ("self-doubt", "self doubt"),
    "anger or frustration": ("anger", "frustration", "frustrated", "angry"),
    "hopelessness": ("hopelessness", "hopeless"),
    "relief": ("relief", "relieved"),
}


def feeling_names(frameworks: Frameworks) -> list[str]:
    """The feelings the seeker can choose: the names of the common reactions."""
    return [i.name for i in frameworks.stage("emotions").section("reactions").items]


def cause_labels(frameworks: Frameworks) -> dict[str, str]:
    """Each cause's label, by its code; the causes the seeker can choose."""
    causes = frameworks.stage("causes").section("causes").items
    return {str(item.key): item.name for item in causes}


def _named(
    lowered: str, words: tuple[str, ...] | list[str], negated: bool, *, stems: bool = False
) -> bool:
    """Whether one of `words` is named (with `negated`: denied or taken back); with
    `stems`, a word that is one of them with a feeling word's ending counts too."""
    ending = (STEM_ENDINGS if stems else "") + r"(?![\w-])"
    for word in words:
        if word not in lowered:  # most labels are not there: no pattern to build
            continue
        for match in re.finditer(rf"(?<![\w-]){re.escape(word)}{ending}", lowered):
            # Long enough for "more disappointment than".
            before = lowered[max(0, match.start() - 40) : match.start()]
            denied = bool(NEGATION.search(before)) and not NOT_ONLY.search(before)
            if denied is negated:
                return True
    return False


def named_entries(text: str, frameworks: Frameworks, *, negated: bool = False) -> ReflectionRecord:
    """The feelings and causes the seeker names by their labels (with `negated`:
    the ones they say it is not)."""
    lowered = " ".join(text.lower().replace("\u2019", "'").split())
    emotions = [
        name.lower()
        for name in feeling_names(frameworks)
        if _named(lowered, FEELING_ALIASES.get(name.lower(), (name.lower(),)), negated)
    ]
    items = frameworks.stage("causes").section("causes").items
    causes = [
        LikelyCause(cause=str(item.key), evidence=_evidence_for(text, item.name))  # type: ignore[arg-type]
        for item in items
        # A cause is named by its label; it is denied or taken back by an everyday
        # name too ("not a skills gap"). Named by an everyday name, praise would read
        # as a cause ("a great culture fit").
        if _named(lowered, (item.name.lower(), *(item.aliases if negated else ())), negated)
    ]
    return ReflectionRecord(emotions=emotions, likely_causes=causes)


def _evidence_for(text: str, label: str) -> str:
    stripped = text.strip()
    # A quick reply is just the label: the seeker chose it.
    return CHOSEN_EVIDENCE if stripped.lower().strip(".!") == label.lower() else stripped


def taken_back(text: str, record: ReflectionRecord, frameworks: Frameworks) -> ReflectionRecord:
    """The feelings and causes in the record that the seeker says are not so ("I'm
    not angry", "remove anger from the record"): theirs to take back."""
    if PASSED.search(text.lower()):
        return ReflectionRecord()
    refused = named_entries(text, frameworks, negated=True)
    held = {e.lower() for e in record.emotions}
    lowered = " ".join(text.lower().replace("\u2019", "'").split())
    # A feeling in the seeker's own word ("embarrassed") is taken back by that word
    # or another form of it ("more disappointment than embarrassment").
    reactions = {name.lower() for name in feeling_names(frameworks)}
    own = [
        e
        for e in record.emotions
        if e.lower() not in reactions and _named(lowered, [_stem(e)], True, stems=True)
    ]
    return ReflectionRecord(
        emotions=[e for e in refused.emotions if e.lower() in held] + own,
        likely_causes=[
            c for c in record.likely_causes if c.cause in {r.cause for r in refused.likely_causes}
        ],
    )


# The endings of a feeling word's other forms, after its stem (`_stem`).
FEELING_ENDINGS = ("ment", "ness", "ing", "ed", "d")
STEM_ENDINGS = "(?:" + "|".join(FEELING_ENDINGS) + ")?"


def _stem(feeling: str) -> str:
    """The start a feeling word shares with its other forms: "embarrass" for
    "embarrassed", "embarrassment" and "embarrassing"."""
    word = feeling.lower().strip()
    for ending in FEELING_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def rank_by_feedback(found: ReflectionRecord, feedback: list[str]) -> ReflectionRecord:
    """Facts before guesses: a cause read from what the employer said rules out a
    keyword guess of strong competition."""
    said = {sentence.lower() for entry in feedback for sentence in split_sentences(entry)}
    from_feedback = [c for c in found.likely_causes if c.evidence.lower() in said]
    if not any(c.cause != "competition" for c in from_feedback):
        return found
    kept = [c for c in found.likely_causes if c.cause != "competition"]
    return found.model_copy(update={"likely_causes": kept})


def without(found: ReflectionRecord, known: ReflectionRecord) -> ReflectionRecord:
    """What `found` adds to `known`: entries the record does not hold yet."""
    emotions = {e.lower() for e in known.emotions}
    causes = {c.cause for c in known.likely_causes}

    def new(values: list[str], have: list[str]) -> list[str]:
        lowered = {h.lower() for h in have}
        return [v for v in values if v.lower() not in lowered]

    return ReflectionRecord(
        emotions=[e for e in found.emotions if e.lower() not in emotions],
        likely_causes=[c for c in found.likely_causes if c.cause not in causes],
        cause_unknown=found.cause_unknown and not known.cause_unknown and not known.likely_causes,
        strengths=new(found.strengths, known.strengths),
        goals=new(found.goals, known.goals),
        routine=new(found.routine, known.routine),
        support=new(found.support, known.support),
    )


def without_entries(record: ReflectionRecord, removed: ReflectionRecord) -> ReflectionRecord:
    """The record without the feelings and causes in `removed` (the seeker took them
    back); everything else in it stays."""
    emotions = {e.lower() for e in removed.emotions}
    causes = {c.cause for c in removed.likely_causes}
    return record.model_copy(
        update={
            "emotions": [e for e in record.emotions if e.lower() not in emotions],
            "likely_causes": [c for c in record.likely_causes if c.cause not in causes],
        }
    )


def kept_by_answer(
    proposed: ReflectionRecord, text: str, frameworks: Frameworks
) -> ReflectionRecord:
    """The part of a proposal the seeker's partial answer names ("mostly the anger")."""
    named = named_entries(text, frameworks)
    emotions = [e for e in proposed.emotions if e.lower() in named.emotions]
    causes = [
        c for c in proposed.likely_causes if c.cause in {n.cause for n in named.likely_causes}
    ]
    return ReflectionRecord(emotions=emotions, likely_causes=causes)


def with_cause_evidence(chosen: ReflectionRecord, proposed: ReflectionRecord) -> ReflectionRecord:
    """A cause chosen by its label keeps the evidence the coach proposed it from."""
    evidence = {c.cause: c.evidence for c in proposed.likely_causes}
    causes = [
        c.model_copy(update={"evidence": evidence.get(c.cause, c.evidence)})
        for c in chosen.likely_causes
    ]
    return chosen.model_copy(update={"likely_causes": causes})
