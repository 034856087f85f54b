"""`coach` and `python -m coach`: the app's commands, each run inside an app built by
`create_app` from the environment."""

from __future__ import annotations

import click
from flask.cli import ScriptInfo

from coach import create_app
from coach.cli import db_group, serve, users_group


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """The coach: help through a job rejection after a second interview."""
    # `with_appcontext` builds the app from this on first use.
    ctx.obj = ScriptInfo(create_app=create_app)


main.add_command(serve)
main.add_command(db_group)
main.add_command(users_group)

if __name__ == "__main__":
    main()
