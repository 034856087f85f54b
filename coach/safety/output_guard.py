"""The output guard: every model reply is checked, sentence by sentence, before it
is stored or shown.

The rules are data (`prompts/safety/output_rules.toml`): one group per kind of
unsafe reply (a diagnosis, medication advice, a promised outcome, advice to
misrepresent, to pester an employer, blame on the seeker's identity, a claim to
be a therapist or a human). This module only splits text into sentences and
applies the rules; what happens to a failing reply (a regeneration or the plain
`fallback`, and the safety event) is decided by the caller.

A whole reply goes through `OutputGuard.check`; a streamed one through a
`GuardedStream`, which releases each sentence as soon as its end is seen and
stops at the first failing one. Both share one splitter, so a reply gets the same
verdict however its deltas were cut.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coach.errors import ConfigurationError

RULES_FILE = Path("safety") / "output_rules.toml"
KINDS = (
    "diagnosis",
    "medication",
    "guarantee",
    "misrepresentation",
    "pestering",
    "identity_blame",
    "false_identity",
)

# A sentence ends at a run of ., ! or ? (with any closing quote, bracket or
# Markdown emphasis) once the whitespace after it is seen, before a newline, or
# before an inline bullet. Waiting for the whitespace is what keeps "3.5" whole.
_SENTENCE_END = re.compile("[.!?]+[\"'\u201d\u2019)\\]*_]*(?=\\s)|\n|(?=\u2022)")
# What a sentence end can be made of; an end still being written is a run of
# these at the end of the text, so a stream rescans only from there.
_END_CHARACTERS = ".!?\"'\u201d\u2019)]*_"
# "1." alone at the start of a line is a list marker, not the end of a sentence.
_LIST_NUMBER = re.compile(r"[ \t>*-]*\d{1,3}")
_VISIBLE = re.compile(r"\S")
_LOOK_BACK = 16
# `{name}` in a pattern stands for the term list of that name; regex counts
# such as {2,3} start with a digit, so they never clash.
_TERM = re.compile(r"\{([a-z_]+)\}")
# An escape in a pattern (`\S`, `\W`, `\B`...): a class, not a capital letter.
_ESCAPED = re.compile(r"\\.")
_APOSTROPHES = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'}
)
_MARKUP = re.compile(r"[*_`]+")
_SPACE = re.compile(r"\s+")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(Strict):
    """One way a sentence can be unsafe: a pattern or a phrase list, which
    `also` must accompany and `unless` cancels (both regular expressions)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    why: str = Field(min_length=10)
    pattern: str | None = None
    phrases: tuple[str, ...] = ()
    also: str | None = None
    unless: str | None = None

    @model_validator(mode="after")
    def _one_matcher(self) -> Rule:
        if (self.pattern is None) == (not self.phrases):
            raise ValueError(f"rule {self.id!r} needs exactly one of pattern or phrases")
        return self


class KindRules(Strict):
    why: str = Field(min_length=10)
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> KindRules:
        ids = [rule.id for rule in self.rules]
        repeated = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
        if repeated:
            raise ValueError(f"rule ids used twice: {repeated}")
        return self


class Sentences(Strict):
    abbreviations: tuple[str, ...]


class OutputRules(Strict):
    """The whole rules file; every kind must be present and every pattern compile."""

    fallback: str = Field(min_length=20)
    sentences: Sentences
    terms: dict[str, tuple[str, ...]]
    diagnosis: KindRules
    medication: KindRules
    guarantee: KindRules
    misrepresentation: KindRules
    pestering: KindRules
    identity_blame: KindRules
    false_identity: KindRules

    def by_kind(self) -> dict[str, KindRules]:
        return {kind: getattr(self, kind) for kind in KINDS}

    @model_validator(mode="after")
    def _patterns_compile(self) -> OutputRules:
        for kind, group in self.by_kind().items():
            for rule in group.rules:
                CompiledRule.build(f"{kind}.{rule.id}", kind, rule, self.terms)
        return self


def _expand(pattern: str, terms: dict[str, tuple[str, ...]], rule_id: str) -> re.Pattern[str]:
    def term(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in terms:
            raise ValueError(f"rule {rule_id} names an unknown term {{{name}}}")
        return "(?:" + "|".join(terms[name]) + ")"

    source = _TERM.sub(term, pattern)
    try:
        # The guard matches lowercased sentences (`failing_rule`): a pattern that names
        # no capital letter matches them as written, two to three times faster than
        # ignoring case would; one that does (a character class, say) ignores case.
        outside_escapes = _ESCAPED.sub("", source)
        if outside_escapes == outside_escapes.lower():
            return re.compile(source)
        return re.compile(source, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"rule {rule_id} has a broken pattern: {exc}") from exc


def _phrase_pattern(phrases: tuple[str, ...]) -> str:
    escaped = (re.escape(normalise(phrase)).replace(r"\ ", r"\s+") for phrase in phrases)
    return r"(?<!\w)(?:" + "|".join(escaped) + r")(?!\w)"


@dataclass(frozen=True)
class CompiledRule:
    rule_id: str
    kind: str
    pattern: re.Pattern[str]
    also: re.Pattern[str] | None
    unless: re.Pattern[str] | None

    @classmethod
    def build(
        cls, rule_id: str, kind: str, rule: Rule, terms: dict[str, tuple[str, ...]]
    ) -> CompiledRule:
        source = rule.pattern if rule.pattern is not None else _phrase_pattern(rule.phrases)
        return cls(
            rule_id=rule_id,
            kind=kind,
            pattern=_expand(source, terms, rule_id),
            also=_expand(rule.also, terms, rule_id) if rule.also else None,
            unless=_expand(rule.unless, terms, rule_id) if rule.unless else None,
        )

    def matches(self, sentence: str) -> bool:
        """Whether the sentence, normalised and lowercased (`failing_rule`), breaks the rule."""
        return (
            self.pattern.search(sentence) is not None
            and (self.also is None or self.also.search(sentence) is not None)
            and (self.unless is None or self.unless.search(sentence) is None)
        )


def normalise(text: str) -> str:
    """The form the rules see: one kind of apostrophe, no Markdown emphasis, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    return _SPACE.sub(" ", _MARKUP.sub("", text)).strip()


@dataclass(frozen=True)
class GuardVerdict:
    """What the guard found: `safe_prefix` is the text before the first failing
    sentence, ending at a sentence boundary, or the whole text when `ok`."""

    ok: bool
    kind: str | None
    rule: str | None
    safe_prefix: str


class UnsafeReply(Exception):
    """A reply failed the guard; `verdict.safe_prefix` is all of it that passed."""

    def __init__(self, verdict: GuardVerdict) -> None:
        super().__init__(f"unsafe reply ({verdict.rule})")
        self.verdict = verdict


class OutputGuard:
    """The rules, compiled once; checks whole replies and opens guarded streams."""

    def __init__(self, rules: OutputRules) -> None:
        self.fallback = rules.fallback.strip()
        self.abbreviations = frozenset(a.lower() for a in rules.sentences.abbreviations)
        self.rules = tuple(
            CompiledRule.build(f"{kind}.{rule.id}", kind, rule, rules.terms)
            for kind, group in rules.by_kind().items()
            for rule in group.rules
        )

    @classmethod
    def load(cls, prompts_dir: Path) -> OutputGuard:
        path = prompts_dir / RULES_FILE
        try:
            data = tomllib.loads(path.read_text("utf-8"))
            return cls(OutputRules.model_validate(data))
        except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
            raise ConfigurationError(f"the output rules in {path} cannot be used: {exc}") from exc

    def check(self, text: str) -> GuardVerdict:
        stream = self.stream()
        try:
            stream.feed(text)
            stream.finish()
        except UnsafeReply as unsafe:
            return unsafe.verdict
        return GuardVerdict(ok=True, kind=None, rule=None, safe_prefix=text)

    def stream(self) -> GuardedStream:
        return GuardedStream(self)

    def failing_rule(self, sentence: str) -> CompiledRule | None:
        """The first rule the sentence breaks, in the order of `KINDS`."""
        normalised = normalise(sentence).lower()
        if not normalised:
            return None
        return next((rule for rule in self.rules if rule.matches(normalised)), None)

    def split(self, text: str) -> list[str]:
        """The sentences the guard judges `text` by; joined, they give `text` back."""
        sentences: list[str] = []
        while (cut := self.sentence_end(text)) is not None:
            sentences.append(text[:cut])
            text = text[cut:]
        return [*sentences, text] if text else sentences

    def sentence_end(self, text: str, scan_from: int = 0) -> int | None:
        """Where the first complete sentence of `text` ends, once that end is certain.

        `scan_from` skips a start the caller has already scanned without finding
        an end (a stream's held text, less any end still being written).
        """
        for end in _SENTENCE_END.finditer(text, scan_from):
            cut = end.end() if end.group().startswith((".", "!", "?")) else end.start()
            if _VISIBLE.search(text, 0, cut) and not self._inside_sentence(text, end):
                return cut
        return None

    def _inside_sentence(self, text: str, end: re.Match[str]) -> bool:
        if not end.group().startswith(".") or end.group().startswith(".."):
            return False
        # Abbreviations and list markers are short, so a short look back is
        # enough, and a long reply is not rescanned from its start.
        position = end.start()
        window = max(0, position - _LOOK_BACK)
        before = text[window:position]
        if not before or before[-1].isspace():
            return False
        token = before.rsplit(None, 1)[-1].lstrip("\"'\u201c\u2018([*_")
        if f"{token}.".lower() in self.abbreviations:
            return True
        line_start = text.rfind("\n", window, position)
        if line_start < 0 and window > 0:
            return False
        line = text[line_start + 1 : position]
        return token.isdigit() and _LIST_NUMBER.fullmatch(line) is not None


class GuardedStream:
    """Checks a streamed reply one sentence at a time.

    `feed` returns the complete sentences that passed and holds back the sentence
    still being written; at the first failing sentence it raises `UnsafeReply`,
    whose `safe_prefix` is every sentence that passed (sentences that passed in
    that same call included), and the stream stays failed.
    """

    def __init__(self, guard: OutputGuard) -> None:
        self._guard = guard
        self._passed: list[str] = []
        self._held = ""
        self._failure: UnsafeReply | None = None
        self._finished = False

    def feed(self, delta: str) -> str:
        self._ensure_open()
        scan_from = len(self._held.rstrip(_END_CHARACTERS))
        self._held += delta
        released: list[str] = []
        while (cut := self._guard.sentence_end(self._held, scan_from)) is not None:
            sentence, self._held = self._held[:cut], self._held[cut:]
            self._pass(sentence)
            released.append(sentence)
            scan_from = 0
        return "".join(released)

    def finish(self) -> str:
        self._ensure_open()
        self._finished = True
        rest, self._held = self._held, ""
        self._pass(rest)
        return rest

    @property
    def released(self) -> str:
        return "".join(self._passed)

    def _pass(self, sentence: str) -> None:
        rule = self._guard.failing_rule(sentence)
        if rule is not None:
            verdict = GuardVerdict(
                ok=False, kind=rule.kind, rule=rule.rule_id, safe_prefix=self.released
            )
            self._failure = UnsafeReply(verdict)
            raise self._failure
        self._passed.append(sentence)

    def _ensure_open(self) -> None:
        if self._failure is not None:
            raise self._failure
        if self._finished:
            raise RuntimeError("this reply's stream is already finished")
