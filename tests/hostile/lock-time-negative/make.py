"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A lock whose note time is -5."""
    lock = root / "source" / "deck.lock"
    lock.write_text(
        "# hand-edited\nnote dropout 0123456789abcdef0123 1700000000 -5\n",
        encoding="utf-8",
    )
