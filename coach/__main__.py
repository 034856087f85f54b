"""`coach` and `python -m coach`: the app's commands, each run inside an app built by
`create_app` from the environment."""

from __future__ import annotations

from importlib import metadata

import click
from flask.cli import ScriptInfo

from coach import create_app
from coach.cli import db_group, evaluate, purge, serve, users_group

# The name on PyPI ("coach" there is an unrelated project); the command stays `coach`.
DISTRIBUTION = "second-interview-coach"


def installed_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        # Run from a checkout on PYTHONPATH, never installed: there is no metadata.
        return "unknown (not installed)"


def _print_version(ctx: click.Context, _param: click.Parameter, wanted: bool) -> None:
    if wanted and not ctx.resilient_parsing:
        click.echo(f"coach {installed_version()}")
        ctx.exit()


@click.group()
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
@click.pass_context
def main(ctx: click.Context) -> None:
    """The coach: help through a job rejection after a second interview."""
    # `with_appcontext` builds the app from this on first use.
    ctx.obj = ScriptInfo(create_app=create_app)


main.add_command(serve)
main.add_command(db_group)
main.add_command(users_group)
main.add_command(purge)
main.add_command(evaluate)

if __name__ == "__main__":
    main()
