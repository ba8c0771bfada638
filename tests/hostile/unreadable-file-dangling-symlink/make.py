"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A question file that is a symbolic link to nothing."""
    (root / "source" / "questions" / "gone.yaml").symlink_to("nowhere/gone.yaml")
