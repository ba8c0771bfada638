"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """One answer of exactly 100,000 characters (20,000 words)."""
    path = root / "source" / "questions" / "long.yaml"
    answer = ("word " * 20_000)[:100_000]
    assert len(answer) == 100_000
    path.write_text(
        "- id: long\n  level: basic\n  question: Why is this answer so long?\n"
        f"  answer: {answer.strip()}\n  tags: [regularization]\n",
        encoding="utf-8",
    )
