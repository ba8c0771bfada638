"""The package layout: layer contracts that fail on a back edge, and ARCHITECTURE.md and
module docstrings that match the tree."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "exporter"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_MODULE_LINES = 600

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def planted_copy(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of the package with one import line added to ``module``."""
    root = tmp_path / "copy"
    shutil.copytree(PACKAGE, root / "exporter", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    target = root / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    return root


def test_the_contracts_hold_on_the_tree() -> None:
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "named"),
    [
        # the model reaching up into the CLI: the layers contract names the chain
        (
            "exporter/core/model.py",
            "import exporter.cli.options  # noqa",
            "exporter.core.model -> exporter.cli.options",
        ),
        # a renderer reaching back into the pipeline that calls it
        (
            "exporter/render/pdf/job.py",
            "from exporter.build import pipeline  # noqa",
            "exporter.render.pdf.job -> exporter.build.pipeline",
        ),
        # an importer depending on a renderer (independent siblings)
        (
            "exporter/importers/common.py",
            "import exporter.render.anki.notes  # noqa",
            "exporter.importers.common -> exporter.render.anki.notes",
        ),
        # validation using Click
        (
            "exporter/source/validate.py",
            "import click  # noqa",
            "exporter.source.validate -> click",
        ),
        # a cycle between two modules of one package
        (
            "exporter/render/pdf/job.py",
            "from exporter.render.pdf import cheatsheet  # noqa",
            "- .job -> .cheatsheet",
        ),
    ],
)
def test_a_back_edge_fails_and_is_named(tmp_path: Path, module: str, line: str, named: str) -> None:
    done = lint_imports(planted_copy(tmp_path, module, line))
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    assert named in done.stdout


def test_every_module_says_what_it_owns_and_stays_small() -> None:
    for path in modules():
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text))
        assert doc, f"{path.relative_to(REPO)} has no module docstring"
        assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path.relative_to(REPO)} is too long"


def test_architecture_md_names_every_package_and_module() -> None:
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for path in modules():
        if path.name == "__init__.py":
            folder = path.parent.relative_to(PACKAGE).as_posix()
            if folder != ".":
                assert f"{folder}/" in text, f"ARCHITECTURE.md does not describe {folder}/"
        elif path.parent != PACKAGE:
            assert f"`{path.name}`" in text, f"ARCHITECTURE.md does not mention {path.name}"
