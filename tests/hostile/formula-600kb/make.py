"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A 600 KB formula (latex2mathml is quadratic in its length)."""
    formula = "a^b" * 200_000
    (root / "source" / "questions" / "formula.yaml").write_text(
        "- id: formula\n  level: basic\n  question: How long is the formula?\n"
        f"  answer: ${formula}$\n",
        encoding="utf-8",
    )
