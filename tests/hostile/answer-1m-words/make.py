"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """An answer of 1,000,000 words (5 MB)."""
    answer = " ".join(["word"] * 1_000_000)
    (root / "source" / "questions" / "long.yaml").write_text(
        f"- id: long\n  level: basic\n  question: How long is the answer?\n  answer: {answer}\n",
        encoding="utf-8",
    )
