"""The life of one reply, from a claimed reply mark to the stored message.

A `Reply` is handed a seeker message whose reply mark is already claimed
(`coach.coaching.turns`). Iterating it screens the message for safety first
(`coach.safety.screening`), settles the turn (record and stage) when coaching goes
on (unless both were done where the message was stored: `OpenedTurn`), takes the
reply's text from where the safety route says (`reply_text`: fixed words, or the
provider through the output guard) and stores the result
(`coach.coaching.reply_storage`); it yields `ReplyEvent`s on the way. It stores
itself and releases the mark exactly once, however it ends:

- complete: the provider finished; stored complete, the record refined afterwards;
- partial or failed: the provider broke off with or without text;
- cancelled: a cancel request arrived; what was written is kept as partial;
- stopped: the process is shutting down (`coach.web.shutdown`); kept as partial;
- client gone: the consumer closed it (or never started it); what was written is
  kept as partial;
- and when storing itself fails, the mark is released on its own.

A turn that asks for the plan itself (`Move.writes_plan`) is answered by the
`PlanWriter` the reply was given, in place of the provider: it writes and stores
the plan, and its summary is the reply. A plan that cannot be written fails the
reply like a model that breaks off (stored as failed, retry offered).

No database connection is held while the provider talks: each step that touches
the database opens a short transaction of its own. Views and the SSE writer only
iterate a `Reply` and close it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Literal

from flask import Flask

from coach.coaching import reply_mark
from coach.coaching.background import background
from coach.coaching.dialogue_state import decided_move
from coach.coaching.record_refinement import bring_record_up_to_date, refine_session
from coach.coaching.reply_mark import ReplyMark
from coach.coaching.reply_storage import Ending, read_message, store_reply
from coach.coaching.reply_text import Piece, reply_text
from coach.errors import ModelUnavailable
from coach.metrics import metrics
from coach.providers import ChatPrompt, Completion, GuidedPrompt, provider
from coach.safety.screening import FIXED_WORDS, SafetyRoute, in_careful_mode, screen_turn
from coach.storage.database import short_transaction
from coach.storage.models import CoachingSession, Message

log = logging.getLogger(__name__)

# The safety route whose fixed reply refers the seeker to crisis helplines.
CRISIS_REPLY = "crisis"


@dataclass(frozen=True)
class Settled:
    """A new message read into the record: as stored, and whether the move decided
    for it writes the plan (read in the same transaction, not in one more)."""

    message: Message
    writes_plan: bool


Settle = Callable[[Flask, ReplyMark], Settled]


@dataclass(frozen=True)
class OpenedTurn:
    """What the transaction that stored a seeker message did for its reply already:
    the message as stored, its safety route, the turn settled (None: left to the
    reply, after the model's reading of the earlier turns) and, with it, the prompt
    the provider is shown (None: the reply builds it if it needs one)."""

    message: Message
    route: SafetyRoute
    settled: Settled | None = None
    prompt: ChatPrompt | GuidedPrompt | None = None


@dataclass(frozen=True)
class WrittenPlan:
    """A plan written and stored for the seeker's request: the reply that shows it
    (Markdown) and the model that wrote the plan ("guided" for the templates)."""

    text: str
    model: str


# Writes and stores the plan a seeker message asks for (app, session id, message
# id) and says how the chat shows it. Plans are built by `coach.plans`, which
# imports this area; so the writer is handed in by the caller that sees both (the
# web layer) instead of being imported here, which would make a cycle.
PlanWriter = Callable[[Flask, int, int], WrittenPlan]


@dataclass(frozen=True)
class ReplyEvent:
    """One step of a reply: the seeker's stored `message`, a `delta` of text, then
    `done` with the stored reply or `error` with the failure (and what was kept)."""

    name: Literal["message", "delta", "done", "error"]
    text: str = ""
    message: Message | None = None
    failure: ModelUnavailable | None = None


class Cancelled(ModelUnavailable):
    """The seeker stopped the reply; what was written is kept."""

    status = 409
    code = "cancelled"


class ClientGone(Exception):
    """The client went away, as another thread saw (`Reply.client_gone`)."""


class Stopping(ModelUnavailable):
    """The server is shutting down; what was written is kept, and a retry reaches
    a server that is up."""

    status = 503
    code = "server_stopping"


class Reply:
    """One reply being written; iterate it for its events, close it when done."""

    def __init__(
        self,
        app: Flask,
        mark: ReplyMark,
        *,
        settle: Settle | None = None,
        write_plan: PlanWriter | None = None,
        opened: OpenedTurn | None = None,
    ) -> None:
        """`settle` reads a new message into the record and decides its stage; a
        retry has none, and answers the message as it was stored. `write_plan`
        answers a request for the plan; without one, the provider answers it.
        `opened` is what was done already when the message was stored."""
        self.app = app
        self.mark = mark
        self.completion = Completion()
        self.ending: Ending | None = None
        self.stored: Message | None = None
        # The safety rule that wrote the reply, if one did; whether it discloses
        # what the coach is (the conversation's first reply).
        self.safety: str | None = None
        self.discloses = False
        # The stage of the message answered, once read: the reply is stored in it.
        self.stage: str | None = None
        # Whether the text is shown as it is written (SSE). A consumer that shows only
        # the end (a JSON answer) sets it False before iterating, and the provider is
        # asked for the whole text at once (`Provider.whole_reply`).
        self.streamed = True
        self._settle_turn = settle
        self._write_plan = write_plan
        self._opened = opened
        self._events = self._run()
        self._lock = threading.Lock()
        self._client_gone = threading.Event()
        # From now until it ends, this process keeps the reply's mark alive.
        reply_mark.mark_keeper(app).keep(mark)
        metrics(app).record_turn("message" if settle is not None else "retry")

    def __iter__(self) -> Iterator[ReplyEvent]:
        return self._events

    def close(self) -> None:
        """The consumer is done with the reply: if it has not ended, it ends now,
        keeping what was written. Safe to call any number of times."""
        try:
            self._events.close()
        except ValueError:  # still running in another thread: that thread finishes it
            return
        self._end(Ending.CLIENT_GONE, "client_gone")  # a no-op if it has ended

    def client_gone(self) -> None:
        """The client went away, seen from another thread than the one iterating:
        the request to the model is cut now (its connection shut down), and the
        reply stops, keeping what was written, as soon as its reader sees that
        (or at the model's next chunk, whichever is first)."""
        self._client_gone.set()
        self.completion.request.cut()

    def _run(self) -> Generator[ReplyEvent, None, None]:
        try:
            first_time = self._settle_turn is not None
            if self._opened is not None:
                opened = self._opened
            else:
                # Safety first: nothing (no model call, no rule) comes before the screen.
                route = screen_turn(
                    self.app, self.mark.session_id, self.mark.message_id, first_time=first_time
                )
                opened = OpenedTurn(read_message(self.app, self.mark), route)
            route, settled, user_message = opened.route, opened.settled, opened.message
            prompt = opened.prompt  # built with the settling, if that was done
            if route.kind == "coach" and first_time and settled is None:
                route = self._with_earlier_turns_read(route)
            writes_plan: bool | None = None  # not known yet: a retry reads it when asked
            if route.kind == "coach" and self._settle_turn is not None:
                settled = settled or self._settle_turn(self.app, self.mark)
                user_message, writes_plan = settled.message, settled.writes_plan
            self.stage = user_message.stage
            yield ReplyEvent("message", message=user_message)
            self.discloses = route.discloses
            watch = _Watch(self.app, self.mark, self._client_gone)
            write_plan = self._write_plan
            if (
                route.kind == "coach"
                and write_plan is not None
                and (self._asks_for_plan() if writes_plan is None else writes_plan)
            ):
                text_pieces = self._plan_reply(write_plan)
            else:
                text_pieces = reply_text(
                    self.app, route, self.mark, self.completion, prompt, streamed=self.streamed
                )
            # Closed however the loop ends (a cancel, the client gone, a stop for
            # shutdown): the request to the model is closed with it, not left running.
            with closing(text_pieces) as pieces:
                for piece in pieces:
                    self.safety = piece.safety or self.safety
                    if piece.replaces:
                        # The whole reply, shown by the `done` event in place of the deltas.
                        self.completion.parts = [piece.text]
                        continue
                    watch.check()
                    if piece.text:
                        self.completion.parts.append(piece.text)
                        yield ReplyEvent("delta", text=piece.text)
            self.completion.finished = time.monotonic()
        except GeneratorExit:
            # Closed mid-stream (the client went away): keep what was said.
            self._end(Ending.CLIENT_GONE, "client_gone")
            raise
        except ClientGone:
            self._end(Ending.CLIENT_GONE, "client_gone")
            return
        except Cancelled as cancelled:
            self._end(Ending.CANCELLED, cancelled.code)
            yield ReplyEvent("error", message=self.stored, failure=cancelled)
            return
        except ModelUnavailable as failure:
            if self._client_gone.is_set():  # the request was cut because the client went
                self._end(Ending.CLIENT_GONE, "client_gone")
                return
            yield self._failed(failure)
            return
        except Exception as exc:
            log.exception("unexpected failure while answering", exc_info=exc)
            yield self._failed(
                ModelUnavailable(
                    "Something went wrong while answering. Try again.", code="internal_error"
                )
            )
            return
        self._end(Ending.COMPLETE, None)
        if self.stored is None:
            yield ReplyEvent("error", failure=_not_stored())
            return
        # Before the last event: a consumer may stop reading at "done".
        self._refine_later()
        yield ReplyEvent("done", message=self.stored)

    def _with_earlier_turns_read(self, route: SafetyRoute) -> SafetyRoute:
        """The model's reading of every earlier turn (record and safety second look)
        is in before the turn is settled, however fast the seeker is; if that second
        look found a crisis, the turn is screened again and answered with care."""
        if not provider(self.app).refines_record:
            return route
        try:
            bring_record_up_to_date(
                self.app, self.mark.session_id, before_message_id=self.mark.message_id
            )
        except Exception:
            # The record can wait for the next turn; the seeker's reply cannot.
            log.exception(
                "could not bring the record of session %s up to date", self.mark.session_id
            )
            return route
        if in_careful_mode(self.app, self.mark.session_id):
            return screen_turn(
                self.app, self.mark.session_id, self.mark.message_id, first_time=True
            )
        return route

    def _asks_for_plan(self) -> bool:
        """Whether the move decided for this message (also on a retry) writes the plan."""
        with short_transaction(self.app, read_only=True) as db:
            message = db.get_one(Message, self.mark.message_id)
            coaching_session = db.get_one(CoachingSession, self.mark.session_id)
            return decided_move(coaching_session, message).writes_plan

    def _plan_reply(self, write_plan: PlanWriter) -> Generator[Piece, None, None]:
        """The plan, written and stored, as the reply's one piece of text."""
        written = write_plan(self.app, self.mark.session_id, self.mark.message_id)
        self.completion.model = written.model
        yield Piece(written.text)

    @property
    def fixed_words(self) -> bool:
        """Whether the safety rules wrote this reply with fixed words (no model)."""
        return self.safety in FIXED_WORDS

    def _failed(self, failure: ModelUnavailable) -> ReplyEvent:
        ending = Ending.PARTIAL if self.completion.text else Ending.FAILED
        self._end(ending, failure.code)
        log.warning("reply %s for message %s: %s", ending, self.mark.message_id, failure.code)
        return ReplyEvent("error", message=self.stored, failure=failure)

    def _end(self, ending: Ending, error: str | None) -> None:
        """Store the reply as `ending` says and release the mark; only the first call counts."""
        with self._lock:
            if self.ending is not None:
                return
            self.ending = ending
        reply_mark.mark_keeper(self.app).drop(self.mark)
        try:
            self.stored = store_reply(
                self.app,
                self.mark,
                self.completion,
                ending,
                error,
                self.safety,
                self.discloses,
                stage=self.stage,
            )
        except Exception:
            log.exception(
                "could not store the %s reply to message %s", ending, self.mark.message_id
            )
            try:
                reply_mark.release(self.app, self.mark)
            except Exception:
                log.exception("could not clear the reply mark of session %s", self.mark.session_id)
        self._count(ending)

    def _count(self, ending: Ending) -> None:
        completion, answering = self.completion, provider(self.app)
        # Only a model's replies have a model's latency; guided mode and fixed words none.
        asked_model = answering.uses_model and not self.fixed_words and completion.model
        metrics(self.app).record_reply(
            status=ending.value,
            provider=answering.name,
            model_seconds=completion.latency_ms / 1000 if asked_model else None,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            crisis_referral=self.safety == CRISIS_REPLY and self.stored is not None,
        )

    def _refine_later(self) -> None:
        if not provider(self.app).refines_record or self.stored is None or self.fixed_words:
            return
        app, session_id = self.app, self.mark.session_id
        background(app).submit(
            lambda: refine_session(app, session_id),
            f"reflection for session {session_id}",
            ("refine", session_id),  # one waiting job a session
        )


def _not_stored() -> ModelUnavailable:
    return ModelUnavailable("The reply could not be saved. Try again.", code="not_stored")


class _Watch:
    """Between chunks: notices the client gone, a cancel request, and the process
    shutting down."""

    def __init__(self, app: Flask, mark: ReplyMark, client_gone: threading.Event) -> None:
        self.app, self.mark, self.client_gone = app, mark, client_gone
        self.keeper = reply_mark.mark_keeper(app)
        self.checked = time.monotonic()

    def check(self) -> None:
        if self.client_gone.is_set():
            raise ClientGone
        if self.keeper.stopping.is_set():
            raise Stopping("The server restarted while the coach was answering. Try again.")
        now = time.monotonic()
        if now - self.checked >= reply_mark.CANCEL_CHECK_SECONDS:
            self.checked = now
            if reply_mark.cancel_requested(self.app, self.mark):
                raise Cancelled("The reply was stopped.", retryable=True)
