"""Where a reply's text comes from, and what of it may be shown.

The safety step decides first (`coach.safety.screening`). A crisis, a check-in in
careful mode, or distress in guided mode gets fixed, human-written words: no
provider is asked anything. Otherwise the provider writes the reply; a model's
text goes through the output guard sentence by sentence, so that a sentence that
breaks a rule is never shown. A reply the guard stops is written once more with
the reason added to the instructions; if that one fails too, or cannot be had, a
plain fallback takes its place. Either way the event is recorded, without words.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask

from coach.coaching.prompts import build_prompt, prompt_book
from coach.coaching.reply_mark import ReplyMark
from coach.errors import ModelUnavailable
from coach.providers import ChatPrompt, Completion, GuidedPrompt, Provider, provider
from coach.safety.output_guard import GuardVerdict, UnsafeReply
from coach.safety.rules import safety_rules
from coach.safety.screening import SafetyRoute, record_safety_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Piece:
    """Text for the reply. `replaces` is true for a whole reply that takes the place
    of what was shown so far (a reply the guard stopped); `safety` names the safety
    rule that wrote it, if one did."""

    text: str
    replaces: bool = False
    safety: str | None = None


def uses_fixed_words(route: SafetyRoute, chosen: Provider[Any]) -> bool:
    """Whether this turn's reply is the route's fixed text rather than the provider's."""
    if route.fixed_reply is None:
        return False
    # With a model, distress is answered by the model told to care and not advise.
    return route.kind != "distress" or not chosen.uses_model


def reply_text(
    app: Flask,
    route: SafetyRoute,
    mark: ReplyMark,
    completion: Completion,
    prompt: ChatPrompt | GuidedPrompt | None,
    *,
    streamed: bool,
) -> Generator[Piece, None, None]:
    """The reply's text as it may be shown, in pieces as it comes (`streamed`), or
    in one piece asked for whole. `prompt` is the provider's, if it was built with
    the turn's settling; else it is built here."""
    chosen = provider(app)
    if route.fixed_reply is not None and uses_fixed_words(route, chosen):
        yield Piece(route.fixed_reply, safety=route.kind)
        return
    if prompt is None:
        prompt = build_prompt(app, mark.message_id, distress=route.kind == "distress")
    # Closed with this generator, whenever that is: a reply that is stopped or whose
    # reader went away closes its request to the model at once.
    written = chosen.stream_reply if streamed else chosen.whole_reply
    with closing(written(prompt, completion)) as texts:
        if not chosen.uses_model:
            # Guided mode's words are ours; only a model's text is untrusted.
            for text in texts:
                yield Piece(text)
            return
        yield from _guarded(app, chosen, prompt, mark, texts)


def _guarded(
    app: Flask,
    chosen: Provider[Any],
    prompt: ChatPrompt | GuidedPrompt,
    mark: ReplyMark,
    texts: Generator[str, None, None],
) -> Iterator[Piece]:
    """A model's text through the output guard, sentence by sentence."""
    guard = safety_rules(app).output_guard.stream()
    try:
        for text in texts:
            # Empty while the guard holds an unfinished sentence back: the reply is
            # still alive, and the caller keeps its mark and looks for a cancel.
            yield Piece(guard.feed(text))
        yield Piece(guard.finish())
    except ModelUnavailable:
        # The reply broke off: the sentence held back is kept if it passes the guard.
        try:
            rest = guard.finish()
        except UnsafeReply:
            rest = ""
        yield Piece(rest)
        raise
    except UnsafeReply as unsafe:
        texts.close()  # the rest of the stopped reply is not wanted; its request ends
        text, outcome = _replacement(app, chosen, prompt, unsafe.verdict)
        detail = f"{unsafe.verdict.rule}:{outcome}"
        record_safety_event(app, mark.session_id, "output_guard", detail)
        yield Piece(text, replaces=True, safety="guarded")


def _replacement(
    app: Flask, chosen: Provider[Any], prompt: ChatPrompt | GuidedPrompt, verdict: GuardVerdict
) -> tuple[str, str]:
    """A safe reply in place of one the guard stopped, and how it was had: written
    again with the reason added to the instructions, else the plain fallback."""
    guard = safety_rules(app).output_guard
    if not isinstance(prompt, ChatPrompt):
        return guard.fallback, "fallback"
    note = prompt_book(app).render("withheld.j2", kind=verdict.kind)
    again = replace(prompt, system=prompt.system + "\n" + note)
    try:
        written = "".join(chosen.whole_reply(again, Completion()))
    except ModelUnavailable as exc:
        log.warning("a withheld reply could not be written again: %s", exc.code)
        return guard.fallback, "fallback"
    if written.strip() and guard.check(written).ok:
        return written, "regenerated"
    return guard.fallback, "fallback"
