"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A 3 GB sparse question file (no disk used): refused by its size, never read."""
    with open(root / "source" / "questions" / "sparse.yaml", "wb") as handle:
        handle.truncate(3 * 1024**3)
