"""`coach` and `python -m coach`: the Flask command group built on `create_app`."""

from __future__ import annotations

from flask.cli import FlaskGroup

from coach import create_app


def main() -> None:
    FlaskGroup(create_app=create_app, add_default_commands=False)(prog_name="coach")


if __name__ == "__main__":
    main()
