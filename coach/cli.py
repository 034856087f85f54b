"""The `coach` command: serve, db upgrade, db store-html, users create, purge, eval.

Building an app never migrates: `coach db upgrade` does, and so does `coach serve`
while COACH_AUTO_MIGRATE is on (the default, so that a first start just works).

`coach serve` runs the app under gunicorn with the same settings as the shipped
`gunicorn.conf.py` (`coach.serving` says why they are what they are).

`coach eval` builds apps of its own (guided mode and the `openai` provider on the
replay server, throwaway databases) with the factory the `coach` group hands it,
never the app of the environment.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo, with_appcontext
from gunicorn.app.base import BaseApplication

from coach.coaching.privacy import purge_idle_guests
from coach.errors import CoachError
from coach.metrics import prepare_metrics_folder
from coach.quality.cases import load_conversations
from coach.quality.drive import SuiteError, SuiteOptions, run_suite
from coach.quality.judging import judge
from coach.quality.report import checks_summary, markdown_report, text_summary
from coach.resources import CHECKOUT, resource_dir
from coach.serving import gunicorn_settings
from coach.storage.database import get_db, upgrade_schema
from coach.storage.html_backfill import store_missing_html
from coach.storage.models import ROLES
from coach.web.auth import create_user


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(users_group)
    app.cli.add_command(serve)
    app.cli.add_command(purge)


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Bring the schema up to date."""
    upgrade_schema(current_app)
    click.echo("The database schema is up to date.")


@db_group.command("store-html")
@with_appcontext
def db_store_html() -> None:
    """Store the HTML of messages written before it was stored (shown right without)."""
    count = store_missing_html(get_db())
    click.echo(f"Stored the HTML of {count} message(s).")


@click.group("users")
def users_group() -> None:
    """Users with a password (counselors, admins)."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), default="counselor", show_default=True)
@with_appcontext
def users_create(email: str, role: str) -> None:
    """Create a user; the password comes from a prompt or standard input."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        user = create_user(get_db(), email, password, role)
    except CoachError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@click.command("purge")
@with_appcontext
def purge() -> None:
    """Delete guests idle for COACH_GUEST_RETENTION_DAYS days (run it daily)."""
    days = current_app.config["COACH_GUEST_RETENTION_DAYS"]
    count = purge_idle_guests(current_app, days)
    click.echo(f"Deleted {count} guest(s) idle for {days} days or more.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_obj
def serve(info: ScriptInfo, /, host: str, port: int) -> None:
    """Run the app (the schema brought up to date first, if COACH_AUTO_MIGRATE is on)."""
    # Before the app is built: its metrics go to files that every worker shares.
    prepare_metrics_folder()
    app = info.load_app()
    if app.config["COACH_AUTO_MIGRATE"]:
        # Before gunicorn forks its workers, so that they never race to migrate.
        upgrade_schema(app)
    click.echo(f"The coach is at http://{host}:{port}/ (provider: {app.config['COACH_PROVIDER']})")
    _run_gunicorn(app, host, port)


class EmbeddedServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn serving an app object we already built, with `coach.serving`'s settings."""

    def __init__(self, app: Flask, bind: str) -> None:
        self.application = app
        self.bind = bind
        super().__init__()

    def load_config(self) -> None:
        for key, value in (gunicorn_settings() | {"bind": self.bind}).items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def _run_gunicorn(app: Flask, host: str, port: int) -> None:
    EmbeddedServer(app, f"{host}:{port}").run()


EVAL_REPORT_NAME = "coach-eval-report.md"


@click.command("eval")
@click.option("--live", is_flag=True, help="Answer the model cases with the configured model.")
@click.option("--record", is_flag=True, help="With --live: record its replies into the cassettes.")
@click.option(
    "--rekey",
    is_flag=True,
    help="Move hand-written replies to the keys of changed prompts; print which cases changed.",
)
@click.option(
    "--cases",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A folder of conversation files [default: the suite's own].",
)
@click.option(
    "--cassettes",
    type=click.Path(file_okay=False, path_type=Path),
    help="A folder of cassettes [default: the suite's own].",
)
@click.option(
    "--only", multiple=True, metavar="NAME", help="Run only this conversation (repeatable)."
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help=f"Where to write the Markdown report [default: evals/report.md in a checkout, "
    f"else ./{EVAL_REPORT_NAME}].",
)
@click.pass_obj
def evaluate(
    info: ScriptInfo,
    /,
    cases: Path | None,
    cassettes: Path | None,
    only: tuple[str, ...],
    report_path: Path | None,
    live: bool,
    record: bool,
    rekey: bool,
) -> None:
    """Hold the scripted conversations (guided ones in guided mode, model ones on the
    recorded replies) and run the checks; the exit status is 1 when a target is
    missed, a check fails or a model call has no recording."""
    if record and not live:
        raise click.UsageError("--record records a live model: use --live --record.")
    if rekey and live:
        raise click.UsageError("--rekey works on the cassettes, not with --live.")
    if info is None or info.create_app is None:
        raise click.ClickException("`eval` runs as `coach eval`, which supplies the app factory.")
    evals = resource_dir("evals")
    options = SuiteOptions(
        cassettes=cassettes or evals / "cassettes", live=live, record=record, rekey=rekey
    )
    try:
        run = run_suite(
            info.create_app, load_conversations(cases or evals / "conversations", only), options
        )
    except (ValueError, SuiteError) as exc:
        raise click.ClickException(str(exc)) from exc
    card = run.score()
    whole_suite = not only and cases is None
    outcome = judge(run, whole_suite=whole_suite)
    click.echo(text_summary(card))
    click.echo(checks_summary(outcome))
    report_path = report_path or _default_report_path()
    report_path.write_text(markdown_report(card, run.transcripts, outcome), "utf-8")
    passed = card.targets_met(whole_suite) and outcome.passed
    click.echo("\nThe suite passed." if passed else "\nThe suite FAILED.")
    click.echo(f"Report: {report_path}")
    sys.exit(0 if passed else 1)


def _default_report_path() -> Path:
    evals = resource_dir("evals")
    # An installed coach keeps its copy inside site-packages: no place for a report.
    return evals / "report.md" if evals == CHECKOUT / "evals" else Path.cwd() / EVAL_REPORT_NAME
