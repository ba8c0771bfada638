"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A 3 GB sparse file in source/ (not a question file) beside an unknown level."""
    with open(root / "source" / "recording.bin", "wb") as handle:
        handle.truncate(3 * 1024**3)
