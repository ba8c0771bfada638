"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A 60 KB formula: under the field limit, over the formula limit; quoted short."""
    formula = "a^b" * 20_000
    (root / "source" / "questions" / "formula.yaml").write_text(
        "- id: formula\n  level: basic\n  question: How long is the formula?\n"
        f"  answer: ${formula}$\n",
        encoding="utf-8",
    )
