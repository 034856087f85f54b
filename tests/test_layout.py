"""The layout of `coach/`: imports run one way, from the web down to storage.

Each module belongs to an area (its subpackage; the modules at the top level are
either shared by every area or the assembly that builds the app). A module may
import its own area and the areas listed for it below, and nothing else, so that
a lower area never reaches up into a higher one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "coach"

# Top-level modules every area may use.
SHARED = {
    "coach.config",
    "coach.config_parsers",
    "coach.errors",
    "coach.resources",
    "coach.logs",
    "coach.metrics",
}
# Top-level modules that put the app together: they may import anything.
ASSEMBLY = {"coach", "coach.cli", "coach.__main__", "coach.serving"}

MAY_IMPORT: dict[str, set[str]] = {
    # The quality suite drives the whole app and checks its plans and safety; only
    # the command line imports it.
    "quality": {"web", "coaching", "plans", "safety", "guide", "storage"},
    "web": {"coaching", "safety", "plans", "counsel", "providers", "guide", "storage"},
    "counsel": {"coaching", "safety", "plans", "providers", "guide", "storage"},
    "plans": {"coaching", "safety", "providers", "guide", "storage"},
    "coaching": {"safety", "providers", "guide", "storage"},
    "safety": {"providers", "guide", "storage"},
    "providers": {"guide"},
    "guide": set(),
    "storage": set(),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def area_of(module: str) -> str | None:
    """The area a module belongs to; None for a top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in MAY_IMPORT) else None


def coach_imports(path: Path) -> set[str]:
    """Every `coach...` module the file imports, type-checking-only imports included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("coach"))
        elif isinstance(node, ast.ImportFrom):
            # The project imports absolutely; a relative import would slip past this check.
            assert node.level == 0, f"{path}: relative import"
            if node.module and node.module.startswith("coach"):
                # `from coach import resources` imports coach.resources, not the factory.
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def violations(module: str, imported: set[str]) -> list[str]:
    if module in ASSEMBLY:
        return []
    own = area_of(module)
    allowed = {own} | MAY_IMPORT.get(own, set()) if own else set()
    wrong = []
    for target in sorted(imported):
        if ".".join(target.split(".")[:2]) in SHARED:
            continue
        target_area = area_of(target)
        if target_area is None or target_area not in allowed:
            wrong.append(target)
    return wrong


@pytest.mark.parametrize("path", modules(), ids=lambda p: module_name(p))
def test_imports_run_one_way(path: Path) -> None:
    module = module_name(path)
    assert violations(module, coach_imports(path)) == [], (
        f"{module} may import only its own area and {MAY_IMPORT.get(area_of(module) or '', set())}"
    )


def test_every_area_is_a_known_one() -> None:
    areas = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert areas <= set(MAY_IMPORT), areas - set(MAY_IMPORT)


def test_every_area_says_what_it_owns() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        docstring = ast.get_docstring(ast.parse(init.read_text("utf-8")))
        assert docstring and len(docstring) > 60, init


def test_only_the_command_line_imports_the_quality_suite() -> None:
    importers = {
        module_name(path)
        for path in modules()
        if area_of(module_name(path)) != "quality"
        and any(target.startswith("coach.quality") for target in coach_imports(path))
    }
    assert importers == {"coach.cli"}


@pytest.mark.parametrize(
    ("module", "imported", "wrong"),
    [
        ("coach.storage.models", {"coach.web.auth"}, ["coach.web.auth"]),
        ("coach.providers.guided", {"coach.coaching.stages"}, ["coach.coaching.stages"]),
        ("coach.coaching.turns", {"coach.providers", "coach.errors"}, []),
        ("coach.guide.record", {"coach.guide.frameworks", "coach"}, ["coach"]),
        ("coach.web.api.sessions", {"coach.coaching.sessions", "coach.storage"}, []),
        ("coach.config", {"coach.web"}, ["coach.web"]),
        ("coach.quality.drive", {"coach.web.auth", "coach.storage"}, []),
        ("coach.web.pages", {"coach.quality.cases"}, ["coach.quality.cases"]),
    ],
)
def test_the_check_catches_an_upward_import(module: str, imported: set[str], wrong: list[str]):
    assert violations(module, imported) == wrong
