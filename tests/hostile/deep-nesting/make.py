"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """100,000 nested flow sequences (the C composer of PyYAML overflows its stack)."""
    path = root / "source" / "questions" / "deep.yaml"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
