"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """15,001 questions in one file: one more than the bank limit."""
    items = [
        f"- id: q{n}\n  level: basic\n  question: What is item {n}?\n  answer: Item {n}.\n"
        for n in range(15_001)
    ]
    (root / "source" / "questions" / "many.yaml").write_text("".join(items), encoding="utf-8")
