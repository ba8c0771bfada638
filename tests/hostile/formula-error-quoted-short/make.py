"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A 1,900-character formula with an unknown command at its end: quoted short."""
    formula = "x + " * 474 + "\\nosuchcommand"
    (root / "source" / "questions" / "formula.yaml").write_text(
        "- id: formula\n  level: basic\n  question: How long is the formula?\n"
        f"  answer: ${formula}$\n",
        encoding="utf-8",
    )
