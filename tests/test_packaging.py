"""Packaging: the prompts, HTML templates and the quality suite's conversations are
found in a checkout and in an installed coach, and the wheel carries everything the
app and `coach eval` read at run time."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from coach import create_app, resources

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", resources.RESOURCE_NAMES)
def test_a_checkout_uses_its_own_folders(name):
    assert resources.resource_dir(name) == ROOT / name


def test_an_installed_copy_wins_over_the_checkout(tmp_path, monkeypatch):
    (tmp_path / "_bundled" / "prompts").mkdir(parents=True)
    monkeypatch.setattr(resources, "files", lambda package: tmp_path)
    assert resources.resource_dir("prompts") == tmp_path / "_bundled" / "prompts"
    assert resources.resource_dir("templates") == ROOT / "templates"


def test_the_app_reads_prompts_and_templates_through_resources(app):
    assert app.config["COACH_PROMPTS_DIR"] == str(ROOT / "prompts")
    assert app.template_folder == str(ROOT / "templates")


def test_an_unknown_resource_folder_is_an_error():
    with pytest.raises(ValueError, match="secrets"):
        resources.resource_dir("secrets")


def _tracked_files() -> list[str]:
    """The checkout's files as git sees them (tracked, or new and not ignored), so that
    no leftover `build/` folder can slip into the wheel."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    return [name for name in listing.stdout.decode().split("\0") if (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    source = tmp_path_factory.mktemp("source")
    for name in _tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes((ROOT / name).read_bytes())
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        check=True,
        timeout=120,
    )
    (built,) = out.glob("*.whl")
    return zipfile.ZipFile(built)


def _expected_files() -> list[str]:
    """Every file the app reads at run time, as the wheel should name it."""
    expected = []
    for name in _tracked_files():
        if name.startswith(("prompts/", "templates/", "evals/conversations/", "evals/cassettes/")):
            expected.append(f"coach/{resources.BUNDLED}/{name}")
        elif name.startswith("coach/"):
            expected.append(name)
    return expected


def test_the_wheel_carries_prompts_templates_static_files_and_migrations(wheel):
    names = set(wheel.namelist())
    expected = _expected_files()
    for must in (
        "prompts/",
        "templates/",
        "evals/conversations/",
        "evals/cassettes/",
        "coach/static/",
        "coach/storage/migrations/versions/",
    ):
        assert any(must in name for name in expected), must
    assert [name for name in expected if name not in names] == []


def test_the_wheel_is_named_and_versioned_as_the_project(wheel):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (metadata_file,) = [name for name in wheel.namelist() if name.endswith(".dist-info/METADATA")]
    metadata = wheel.read(metadata_file).decode()
    assert f"Name: {project['name']}\n" in metadata
    assert f"Version: {project['version']}\n" in metadata
    entry_points = wheel.read(metadata_file.replace("METADATA", "entry_points.txt")).decode()
    assert "coach = coach.__main__:main" in entry_points


def test_the_app_builds_from_the_wheels_own_copies(wheel, tmp_path, monkeypatch):
    """The wheel's prompts and templates, not the checkout's, make a working app."""
    wheel.extractall(tmp_path)
    bundled = tmp_path / "coach" / resources.BUNDLED
    monkeypatch.setattr(resources, "files", lambda package: tmp_path / "coach")
    monkeypatch.setenv("COACH_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"SECRET_KEY": "test", "COACH_PROMPTS_DIR": str(bundled / "prompts")})
    assert app.template_folder == str(bundled / "templates")
    assert "Guided mode" in app.test_client().get("/").get_data(as_text=True)


def test_every_subpackage_is_listed_for_the_wheel():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "coach").rglob("__init__.py")
    }
    assert on_disk <= listed, on_disk - listed
