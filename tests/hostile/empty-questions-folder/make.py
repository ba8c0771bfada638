"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """questions/ exists but holds no *.yaml (Git cannot commit an empty folder)."""
    folder = root / "source" / "questions"
    folder.mkdir(exist_ok=True)
    (folder / "README.txt").write_text("Not a question file.\n", encoding="utf-8")
