"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A 15,000-character answer (2,500 words): fine for Anki, left out of the PDFs."""
    answer = " ".join(["words"] * 2_500)
    (root / "source" / "questions" / "long.yaml").write_text(
        "- id: long\n  level: basic\n  question: How long is the answer?\n"
        f"  answer: {answer}\n  tags: [optimization]\n",
        encoding="utf-8",
    )
