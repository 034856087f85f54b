"""Hold the scripted conversations with the real app, as a seeker's client would.

Guided cases run on an app in guided mode; model cases on an app whose `openai`
provider talks, over real HTTP, to the replay server (`coach.quality.replay`),
which answers from the cassettes (or, with `--live`, to the configured model).
Each app has a fresh SQLite file in a temporary folder, brought up to date by the
migrations, and a fixed clock, so that the dates in prompts and plans, and so the
request keys, are the same every day. Each conversation gets a guest of its own
and a new session, posts its turns as JSON and reads the replies, their stages and
choices and the record after each turn; a case that asks for a plan then has one
generated through `POST /api/v1/sessions/<id>/plan`. Nothing is mocked: what the
suite scores is what a seeker of the API would have seen.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import openai
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import Environment, Template

from coach.coaching.background import background
from coach.coaching.clock import EXTENSION_KEY as CLOCK_KEY
from coach.coaching.clock import FixedClock
from coach.coaching.prompts import prompt_book
from coach.guide.frameworks import Frameworks, frameworks
from coach.quality.cases import Conversation
from coach.quality.cassettes import Cassette, Turn, load_cassettes, save_cassette
from coach.quality.replay import Mode, Rekeyed, ReplayServer, Served, Upstream
from coach.quality.scoring import FrameworkItem, Scorecard, framework_items, score
from coach.quality.transcripts import Exchange, Transcript
from coach.resources import resource_dir
from coach.safety.output_guard import OutputGuard
from coach.safety.rules import safety_rules
from coach.storage.database import database, upgrade_schema

AppFactory = Callable[[dict[str, Any]], Flask]
API = "/api/v1"
# The suite's today: a Monday, fixed so that prompts and plans read the same every day.
EVAL_DAY = date(2026, 3, 2)
# The model name of hand-written cassettes; recorded ones carry the live model's.
HAND_WRITTEN_MODEL = "gpt-4o-mini"
# The replay server ignores keys; this one only has to be non-empty.
REPLAY_KEY = "coach-eval-replay"


class SuiteError(RuntimeError):
    """The app could not be driven at all (no guest, no session, no model)."""


@dataclass(frozen=True)
class SuiteOptions:
    """How the model cases are answered: from the cassettes (the default), by the
    configured model (`live`), recorded from it (`live` and `record`), or from the
    cassettes with hand-written calls moved to new keys (`rekey`)."""

    cassettes: Path
    live: bool = False
    record: bool = False
    rekey: bool = False

    @property
    def replay_mode(self) -> Mode:
        """Live runs go through the replay server too (passing every call on to the
        model), so that the checks see each turn's calls; only `record` keeps them."""
        if self.live:
            return "record"
        return "rekey" if self.rekey else "replay"

    @property
    def label(self) -> str:
        if self.live:
            return "live model, recording" if self.record else "live model"
        return "cassettes, re-keying" if self.rekey else "cassettes (offline)"


@dataclass
class SuiteRun:
    transcripts: list[Transcript]
    items: list[FrameworkItem]
    language_lines: dict[str, str]
    frameworks: Frameworks | None = None
    guard: OutputGuard | None = None
    prompts_dir: Path | None = None
    options: SuiteOptions | None = None
    misses: list[Served] = field(default_factory=list)
    rekeyed: Rekeyed = field(default_factory=Rekeyed)
    unused: dict[str, int] = field(default_factory=dict)

    def score(self) -> Scorecard:
        return score(self.transcripts, self.items, self.language_lines)


def eval_config(database_url: str) -> dict[str, Any]:
    """Settings that make an app for the suite: guided mode on the given database,
    no rate limits (the suite sends many messages quickly), a throwaway key."""
    return {
        "COACH_DATABASE_URL": database_url,
        "COACH_PROVIDER": "guided",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "RATELIMIT_ENABLED": False,
    }


def run_suite(
    make_app: AppFactory,
    conversations: Iterable[Conversation],
    options: SuiteOptions | None = None,
) -> SuiteRun:
    """Hold every conversation; the databases go with the run."""
    options = options or SuiteOptions(cassettes=resource_dir("evals") / "cassettes")
    cases = list(conversations)
    with (
        tempfile.TemporaryDirectory(prefix="coach-eval-", dir=_memory_folder()) as folder,
        ExitStack() as stack,
    ):
        guided = stack.enter_context(_eval_app(make_app, Path(folder) / "guided.db", {}))
        replay: ReplayServer | None = None
        model_app: Flask | None = None
        if any(case.mode == "model" for case in cases):
            replay, settings = _model_settings(make_app, options, folder)
            stack.callback(replay.close)
            model_app = stack.enter_context(
                _eval_app(make_app, Path(folder) / "model.db", settings)
            )
        transcripts = []
        for case in cases:
            app = model_app if case.mode == "model" and model_app is not None else guided
            transcripts.append(hold(app, app.test_client(), case, replay))
        run = SuiteRun(
            transcripts,
            framework_items(frameworks(guided)),
            fixed_language_lines(guided),
            frameworks=frameworks(guided),
            guard=safety_rules(guided).output_guard,
            prompts_dir=Path(guided.config["COACH_PROMPTS_DIR"]),
            options=options,
        )
        if replay is not None:
            run.misses, run.rekeyed = list(replay.misses), replay.rekeyed
            if options.rekey or options.record:
                run.unused = _save_touched(replay, options.cassettes)
        return run


def _memory_folder() -> str | None:
    """A folder in memory where the system has one: the throwaway databases commit
    thousands of times, and a commit on disk waits for the disk."""
    # Only as the parent of a private folder that mkdtemp makes (mode 0700).
    shm = Path("/dev/shm")  # noqa: S108
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _model_settings(
    make_app: AppFactory, options: SuiteOptions, folder: str
) -> tuple[ReplayServer, dict[str, Any]]:
    """The replay server and the settings of the model app that talks to it."""
    mode = options.replay_mode
    if mode == "record":
        upstream, model = _live_upstream(make_app, folder)
        replay = ReplayServer({}, "record", model=model, upstream=upstream)
    else:
        cassettes = load_cassettes(options.cassettes)
        replay = ReplayServer(cassettes, mode, model=_cassette_model(cassettes))
    return replay, {
        "COACH_PROVIDER": "openai",
        "OPENAI_API_KEY": REPLAY_KEY,
        "OPENAI_BASE_URL": replay.url,
        "COACH_MODEL": replay.model,
        # The replay never fails by chance: one attempt, so a miss is reported once.
        "COACH_MODEL_ATTEMPTS": 1,
        # Folds in small chunks, so that the suite's short cases fold turns into the
        # summary (and exercise its prompt) as longer conversations do.
        "COACH_FOLD_CHUNK": 4,
    }


def _cassette_model(cassettes: dict[str, Cassette]) -> str:
    models = {cassette.model for cassette in cassettes.values()}
    if len(models) > 1:
        raise SuiteError(f"the cassettes name several models ({', '.join(sorted(models))})")
    return models.pop() if models else HAND_WRITTEN_MODEL


def _live_upstream(make_app: AppFactory, folder: str) -> tuple[Upstream, str]:
    """A way to ask the configured model for a whole answer, and its name."""
    probe = make_app(eval_config(f"sqlite:///{Path(folder) / 'probe.db'}"))
    key, base_url = probe.config.get("OPENAI_API_KEY"), probe.config.get("OPENAI_BASE_URL")
    if not key:
        raise SuiteError("--live needs OPENAI_API_KEY (and OPENAI_BASE_URL, COACH_MODEL)")
    client = openai.OpenAI(api_key=key, base_url=base_url, timeout=120, max_retries=2)

    def ask(body: dict[str, Any]) -> str:
        whole = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        answer = client.chat.completions.create(**whole)
        text = answer.choices[0].message.content or ""
        # A key never reaches a cassette, even if the model were to repeat one.
        return text.replace(key, "[filtered]")

    return ask, str(probe.config["COACH_MODEL"])


def _save_touched(replay: ReplayServer, folder: Path) -> dict[str, int]:
    """Write the cassettes this run changed; drop the calls nothing asked for."""
    unused: dict[str, int] = {}
    for case in sorted(replay.touched):
        cassette = replay.cassettes[case]
        asked = {served.call.key for served in replay.served if served.case == case and served.call}
        kept = [call for call in cassette.calls if call.key in asked]
        if len(kept) != len(cassette.calls):
            unused[case] = len(cassette.calls) - len(kept)
        cassette.calls = kept
        save_cassette(folder, cassette)
    return unused


@contextmanager
def _eval_app(make_app: AppFactory, path: Path, settings: dict[str, Any]) -> Iterator[Flask]:
    app = make_app(eval_config(f"sqlite:///{path}") | settings)
    upgrade_schema(app)
    app.extensions[CLOCK_KEY] = FixedClock(EVAL_DAY)
    _watch_templates(app)
    try:
        yield app
    finally:
        background(app).wait_idle()
        database(app).engine.dispose()


class _TemplateWatch:
    """Notes each template the app's prompt book asks for, includes too: Jinja looks
    up an `{% include %}` through the environment's `get_template`, which this wraps
    on the one environment object (its compiled-template cache stays)."""

    def __init__(self, environment: Environment) -> None:
        self.read: set[str] = set()
        self._get_template = environment.get_template

    def get_template(self, name: Any, *args: Any, **kwargs: Any) -> Template:
        template = self._get_template(name, *args, **kwargs)
        if template.name:
            self.read.add(template.name)
        return template


WATCH_KEY = "coach.quality.template_watch"


def _watch_templates(app: Flask) -> None:
    environment = prompt_book(app).environment
    watch = _TemplateWatch(environment)
    environment.get_template = watch.get_template  # type: ignore[method-assign]
    app.extensions[WATCH_KEY] = watch


def _templates_read(app: Flask) -> set[str]:
    watch: _TemplateWatch | None = app.extensions.get(WATCH_KEY)
    if watch is None:
        return set()
    read = {f"templates/{name}" for name in watch.read}
    watch.read.clear()
    return read


def hold(
    app: Flask, client: FlaskClient, conversation: Conversation, replay: ReplayServer | None = None
) -> Transcript:
    """One conversation, turn by turn, as a new guest in a new session."""
    token = _created(client.post(f"{API}/auth/guest"), "a guest")["token"]
    headers = {"Authorization": f"Bearer {token}"}
    session = _created(client.post(f"{API}/sessions", headers=headers), "a session")
    url = f"{API}/sessions/{session['id']}"
    stage = str(session["stage"])
    transcript = Transcript(conversation)
    _templates_read(app)  # what earlier cases read is theirs
    for number, turn in enumerate(conversation.turns, start=1):
        _at(replay, conversation.name, number)
        response = client.post(f"{url}/messages", headers=headers, json={"content": turn.say})
        # Work after a reply (the record's refinement) must land before the next turn,
        # as it would while a person types.
        background(app).wait_idle()
        served = tuple(replay.served_in(conversation.name, number)) if replay else ()
        body = response.get_json(silent=True) or {}
        if response.status_code != 201:
            error = f"HTTP {response.status_code} {body.get('error', body)!s:.300}"
            transcript.exchanges.append(
                Exchange(turn.say, "", stage, stage, error=error, served=served)
            )
            continue
        reply = body["reply"]
        transcript.exchanges.append(
            Exchange(
                said=turn.say,
                reply=str(reply["content"]),
                stage_before=stage,
                stage_after=str(reply["stage"]),
                choices=tuple(str(choice) for choice in reply.get("choices") or ()),
                safety=(reply.get("safety") or {}).get("kind"),
                # The record after each turn is read where grounding needs it.
                causes=_causes(_shown(client, url, headers).get("reflection"))
                if conversation.mode == "model"
                else None,
                served=served,
                disclosed=bool(reply.get("disclosure")),
                resources=bool((reply.get("safety") or {}).get("resources")),
            )
        )
        stage = str(reply["stage"])
    transcript.reflection = _shown(client, url, headers).get("reflection")
    if conversation.asks_for_plan:
        _at(replay, conversation.name, "plan")
        horizon = conversation.plan_expected.horizon_weeks
        made = client.post(f"{url}/plan", headers=headers, json={"horizon_weeks": horizon})
        background(app).wait_idle()
        answer = made.get_json(silent=True) or {}
        if made.status_code == 201:
            transcript.plan = answer
        else:
            transcript.plan_error = f"HTTP {made.status_code} {answer.get('error', answer)!s:.300}"
        transcript.plan_served = (
            tuple(replay.served_in(conversation.name, "plan")) if replay else ()
        )
    transcript.prompt_files = _templates_read(app)
    return transcript


def _at(replay: ReplayServer | None, case: str, turn: Turn) -> None:
    if replay is not None:
        replay.at(case, turn)


def _shown(client: FlaskClient, url: str, headers: dict[str, str]) -> dict[str, Any]:
    shown = client.get(url, headers=headers)
    if shown.status_code != 200:
        raise SuiteError(f"GET {url} answered {shown.status_code}")
    body: dict[str, Any] = shown.get_json() or {}
    return body


def _causes(reflection: dict[str, Any] | None) -> tuple[str, ...] | None:
    if reflection is None:
        return None
    found = [str(c.get("cause")) for c in reflection.get("likely_causes") or ()]
    return tuple(dict.fromkeys(found + (["unknown"] if reflection.get("cause_unknown") else [])))


def _created(response: Any, what: str) -> dict[str, Any]:
    if response.status_code != 201:
        raise SuiteError(f"the app did not create {what}: HTTP {response.status_code}")
    body: dict[str, Any] = response.get_json()
    return body


def fixed_language_lines(app: Flask) -> dict[str, str]:
    """Guided mode's fixed line per language, from `[languages.<code>] line` in
    prompts/guided.toml; none there yet makes every such check fail, by name."""
    path = Path(app.config["COACH_PROMPTS_DIR"]) / "guided.toml"
    languages = tomllib.loads(path.read_text("utf-8")).get("languages", {})
    return {
        code: str(table["line"])
        for code, table in languages.items()
        if isinstance(table, dict) and table.get("line")
    }
