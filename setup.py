"""The one build step that pyproject.toml cannot declare: putting the top-level
`prompts/` and `templates/` inside the built package, as `coach/_bundled/prompts`
and `coach/_bundled/templates`.

They stay at the top of the repository (the layout is fixed), and setuptools'
package-data only takes files from inside a package's folder, so the build copies
them into the wheel. `coach/resources.py` finds these copies in an installed coach,
and the checkout's folders otherwise. `MANIFEST.in` brings them into the sdist.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
RESOURCE_FOLDERS = ("prompts", "templates")


class BuildPyWithResources(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            # An editable install reads the checkout's folders, so edits show at once.
            return
        bundled = Path(self.build_lib) / "coach" / "_bundled"
        for name in RESOURCE_FOLDERS:
            target = bundled / name
            # A fresh copy each build, so a file deleted from the checkout leaves no stale twin.
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("__pycache__"))


setup(cmdclass={"build_py": BuildPyWithResources})
