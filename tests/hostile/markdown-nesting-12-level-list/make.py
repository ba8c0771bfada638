"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A list nested 12 levels deep: markdown-it keeps 9 and drops items 10 to 12."""
    lines = ["  " * depth + f"- item {depth + 1}" for depth in range(12)]
    body = "\n".join("    " + line for line in lines)
    (root / "source" / "questions" / "nested.yaml").write_text(
        "- id: nested\n  level: basic\n  question: How deep is the list?\n  answer: |\n"
        + body
        + "\n",
        encoding="utf-8",
    )
