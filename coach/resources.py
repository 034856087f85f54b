"""Where the files that are not Python live: the prompts (`prompts/`), the HTML
templates (`templates/`) and the conversations of the quality suite (`evals/`).

All three stay at the top of the repository. A built wheel carries copies of them
inside the package, under `coach/_bundled/` (pyproject.toml maps them there), so that
an installed coach finds them wherever it runs; a checkout, or an editable install
of one, has no such copies and uses the folders beside `coach/`, so that an edit
to a prompt shows at once.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

BUNDLED = "_bundled"
CHECKOUT = Path(__file__).resolve().parent.parent
RESOURCE_NAMES = ("prompts", "templates", "evals")


def resource_dir(name: str) -> Path:
    """The folder `name` (one of RESOURCE_NAMES): the installed copy, else the checkout's."""
    if name not in RESOURCE_NAMES:
        raise ValueError(f"unknown resource folder {name!r}")
    bundled = files("coach") / BUNDLED / name
    # Wheels install unpacked, so an installed copy is a real folder; a zipped
    # import (never made by pip) would have none and falls through to the checkout.
    if isinstance(bundled, Path) and bundled.is_dir():
        return bundled
    return CHECKOUT / name
