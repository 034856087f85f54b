"""How a seeker's message reads beside the conversation: an answer to what the
coach asked (yes, no, move on, stay), a request (a plan, a reply to the recruiter,
a break), a fragment, words addressed to the coach, or another language.

Plain phrase rules from `prompts/dialogue.toml` and the languages of
`prompts/guided.toml`; the dialogue (`coach.coaching.dialogue`) decides what to
do with the reading. Nothing here looks at the database.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from flask import Flask, current_app

from coach.guide.frameworks import CAUSES, STAGES, Frameworks, frameworks
from coach.guide.record import RECORD_LISTS

# An answer phrase counts when the message opens with it, or when the whole
# message is this short: "next" in "my next interview" is not consent.
SHORT_ANSWER_WORDS = 4
# At most this many words can be a fragment ("not sure", "fine I guess").
FRAGMENT_WORDS = 2
# Another language: at least this many of its common words, and more than English.
LANGUAGE_MIN_WORDS = 2
ENGLISH_WORDS = frozenset(
    [
        "i",
        "the",
        "and",
        "to",
        "a",
        "of",
        "my",
        "it",
        "was",
        "is",
        "that",
        "in",
        "for",
        "me",
        "you",
        "they",
        "with",
        "not",
        "but",
        "on",
        "have",
        "this",
        "be",
        "so",
        "just",
        "what",
        "do",
        "at",
        "feel",
        "about",
        "had",
        "an",
        "we",
        "are",
        "how",
        "would",
        "can",
        "get",
        "job",
    ]
)
TYPOGRAPHIC_APOSTROPHE = "\u2019"
# The answer that is neither a yes nor a no (`[answers] unsure` in dialogue.toml).
UNSURE = "unsure"
# Consent to leave the stage (`[answers] move_on`).
MOVE_ON = "move_on"
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def normalise(text: str) -> str:
    """Lowercase, straight apostrophes, single spaces, no surrounding punctuation."""
    lowered = text.lower().replace(TYPOGRAPHIC_APOSTROPHE, "'")
    return " ".join(lowered.split()).strip(" .!?,;:\"'()-")


def _pattern(phrases: list[str]) -> re.Pattern[str]:
    ordered = sorted((p.lower() for p in phrases), key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(p) for p in ordered) + r")(?![\w'])")


@dataclass(frozen=True)
class Reading:
    """What one message does besides telling the coach something."""

    text: str
    answers: frozenset[str] = frozenset()  # confirm, deny, move_on, stay, unsure
    request: str | None = None  # plan, recruiter, break
    fragment: bool = False
    addressed: str | None = None  # greeting, returning, thanks, coach_question
    # A question about what comes later: "why" (the causes) or "what" (what to do).
    asks_ahead: str | None = None
    # A move-on phrase anywhere in it ("yes, let's move on, though it stings").
    consents: bool = False
    # Whether what they feel is normal ("is it normal to feel this way?").
    asks_normal: bool = False
    affirm: tuple[str, ...] = ()
    relevant: tuple[str, ...] = ()
    # Framework items and strategies the seeker says they have done already
    # (`[[already_done]]`).
    done: tuple[str, ...] = ()
    done_strategies: tuple[str, ...] = ()
    # Topics of the stages' questions the message answers in passing (`[answered]`).
    answered: frozenset[str] = frozenset()
    language: str | None = None
    words: tuple[str, ...] = field(default=())

    @property
    def only_unsure(self) -> bool:
        """Not knowing and nothing more: "no idea", "hmm, not sure"."""
        return UNSURE in self.answers and self.fragment


class DialogueRules:
    """The phrase rules, compiled once per app."""

    def __init__(self, data: dict[str, object], languages: dict[str, frozenset[str]]) -> None:
        answers = _table(data, "answers")
        self.answers = {name: _pattern(phrases) for name, phrases in answers.items()}
        self.requests = {name: _pattern(p) for name, p in _table(data, "requests").items()}
        exceptions = cast(dict[str, dict[str, list[str]]], data["requests_unless"])
        for name, entry in exceptions.items():
            # A key out of place (a request's phrases under this table) is a mistake.
            if name not in self.requests or set(entry) != {"unless", "even_if"}:
                raise ValueError(f"dialogue.toml: [requests_unless.{name}] is not as described")
        self.requests_unless = {
            name: (
                _pattern(entry["unless"]),
                _pattern(entry["even_if"]) if entry["even_if"] else None,
            )
            for name, entry in exceptions.items()
        }
        self.requests_alone = {
            name: frozenset(normalise(p) for p in phrases)
            for name, phrases in _table(data, "requests_alone").items()
        }
        fragments = _table(data, "fragments")
        self.fragments = frozenset(normalise(p) for p in fragments["words"])
        self.fillers = _pattern(fragments["fillers"])
        addressed = _table(data, "addressed")
        self.greetings = frozenset(normalise(p) for p in addressed["greetings"])
        self.returning = _pattern(addressed["returning"])
        self.is_normal = _pattern(addressed["is_normal"])
        self.thanks = frozenset(normalise(p) for p in addressed["thanks"])
        self.coach_phrases = _pattern(addressed["coach_phrases"])
        self.ahead = {
            "why": _pattern(addressed["ahead_why"]),
            "what": _pattern(addressed["ahead_what"]),
        }
        self.affirm = {key: _pattern(p) for key, p in _table(data, "affirm").items()}
        self.relevance = {ref: _pattern(p) for ref, p in _table(data, "relevance").items()}
        done = cast(list[dict[str, list[str]]], data["already_done"])
        self.already_done = [
            (_pattern(entry["phrases"]), tuple(entry["items"]), tuple(entry["strategies"]))
            for entry in done
        ]
        self.topics = {key: _pattern(p) for key, p in _table(data, "answered").items()}
        self.languages = languages

    @classmethod
    def load(cls, prompts_dir: Path) -> DialogueRules:
        data = tomllib.loads((prompts_dir / "dialogue.toml").read_text("utf-8"))
        guided = tomllib.loads((prompts_dir / "guided.toml").read_text("utf-8"))
        languages = {code: frozenset(entry["words"]) for code, entry in guided["languages"].items()}
        return cls(data, languages)

    def read(self, text: str) -> Reading:
        plain = normalise(text)
        words = tuple(WORD.findall(plain))
        language = self.language(words)
        if language:
            return Reading(text=text, language=language, words=words)
        short = len(words) <= SHORT_ANSWER_WORDS
        # What says "I don't know" is read as that alone: the other answers are looked
        # for in the rest (blanked in place, so that an answer still opens the message).
        rest = self.answers[UNSURE].sub(lambda found: " " * len(found.group()), plain)
        answers = frozenset(
            name
            for name, pattern in self.answers.items()
            if (match := pattern.search(plain if name == UNSURE else rest))
            and (
                short
                or self._opens(plain, match.start())
                # "I just told you. Let's move on." is consent too; a yes or a no
                # opening a later sentence may be about anything.
                or (name == MOVE_ON and self._opens_sentence(plain, match.start()))
            )
        )
        request = next(
            (
                n
                for n, p in self.requests.items()
                if p.search(plain) and not self._taken_back(n, plain)
            ),
            None,
        )
        alone = " ".join(WORD.findall(self.fillers.sub(" ", plain)))
        request = request or next(
            (name for name, phrases in self.requests_alone.items() if alone in phrases), None
        )
        done = [entry for entry in self.already_done if entry[0].search(plain)]
        return Reading(
            text=text,
            answers=answers,
            request=request,
            fragment=plain in self.fragments
            or (0 < len(words) <= FRAGMENT_WORDS)
            # Not knowing and nothing more ("hmm, not sure yet") says as little.
            or (UNSURE in answers and self._says_nothing(normalise(rest))),
            addressed=self._addressed(plain, words),
            asks_ahead=next((key for key, p in self.ahead.items() if p.search(plain)), None),
            asks_normal=bool(self.is_normal.search(plain)),
            consents=bool(self.answers[MOVE_ON].search(plain)),
            affirm=tuple(key for key, p in self.affirm.items() if p.search(plain)),
            relevant=tuple(ref for ref, p in self.relevance.items() if p.search(plain)),
            done=tuple(ref for _, refs, _ in done for ref in refs),
            done_strategies=tuple(key for _, _, keys in done for key in keys),
            answered=frozenset(key for key, p in self.topics.items() if p.search(plain)),
            words=words,
        )

    def _taken_back(self, request: str, plain: str) -> bool:
        """Whether the message asks for something else after all: a break from job
        hunting, a reply to a friend (`[requests_unless]`)."""
        if request not in self.requests_unless:
            return False
        unless, even_if = self.requests_unless[request]
        return bool(unless.search(plain)) and not (even_if and even_if.search(plain))

    def _opens(self, plain: str, position: int) -> bool:
        """Whether what is at `position` opens the message, fillers aside ("honestly,
        I don't know...")."""
        return not WORD.search(self.fillers.sub(" ", plain[:position]))

    def _opens_sentence(self, plain: str, position: int) -> bool:
        start = max(plain.rfind(stop, 0, position) for stop in ".!?") + 1
        return self._opens(plain[start:], position - start)

    def _says_nothing(self, plain: str) -> bool:
        left = " ".join(WORD.findall(self.fillers.sub(" ", plain)))
        return not left or left in self.fragments

    def _addressed(self, plain: str, words: tuple[str, ...]) -> str | None:
        short = len(words) <= SHORT_ANSWER_WORDS
        if short and self.returning.search(plain):
            return "returning"
        if plain in self.thanks or (short and " ".join(words[:2]) in self.thanks):
            return "thanks"
        if plain in self.greetings or (short and words and " ".join(words[:2]) in self.greetings):
            return "greeting"
        if self.coach_phrases.search(plain):
            return "coach_question"
        return None

    def language(self, words: tuple[str, ...]) -> str | None:
        """The other language a message is written in, by its common words; None for English."""
        if not words:
            return None
        english = sum(w in ENGLISH_WORDS for w in words)
        scores = {code: sum(w in common for w in words) for code, common in self.languages.items()}
        code, best = max(scores.items(), key=lambda item: item[1])
        enough = best >= LANGUAGE_MIN_WORDS or (len(words) <= 2 and best == len(words))
        return code if enough and best > english else None


def _table(data: dict[str, object], key: str) -> dict[str, list[str]]:
    table = data[key]
    if not isinstance(table, dict):
        raise ValueError(f"dialogue.toml: [{key}] must be a table")
    return table


EXTENSION_KEY = "coach.dialogue_rules"


def init_app(app: Flask) -> None:
    rules = DialogueRules.load(Path(app.config["COACH_PROMPTS_DIR"]))
    unknown_names(frameworks(app), rules)
    app.extensions[EXTENSION_KEY] = rules


def unknown_names(loaded: Frameworks, rules: DialogueRules) -> None:
    """Stops the app at start when a question is said to be answered by something that
    is neither part of the record nor a topic of `[answered]`, or `[[already_done]]`
    names an item or strategy there is not: a misspelt name would quietly do nothing."""
    known = {*RECORD_LISTS, *CAUSES, *rules.topics}
    for _, refs, keys in rules.already_done:
        for ref in refs:
            stage, section, key = ref.split("/")
            loaded.stage(stage).section(section).item(key)  # a KeyError names it
        unknown = set(keys) - set(loaded.catalogue.strategies)
        if unknown:
            raise ValueError(f"[[already_done]] names unknown strategies {sorted(unknown)}")
    for stage in STAGES:
        for question in loaded.stage(stage).questions:
            unknown = set(question.answered_by) - known
            if unknown:
                raise ValueError(f"{stage}: {question.text!r} names unknown {sorted(unknown)}")


def dialogue_rules(app: Flask | None = None) -> DialogueRules:
    rules: DialogueRules = (app or current_app).extensions[EXTENSION_KEY]
    return rules
