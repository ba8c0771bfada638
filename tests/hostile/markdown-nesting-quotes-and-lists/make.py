"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """Twenty quotes around twenty lists: the card back would be blank."""
    quotes = "> " * 20
    lines = [quotes + "  " * depth + f"- item {depth + 1}" for depth in range(20)]
    body = "\n".join("    " + line for line in lines)
    (root / "source" / "questions" / "nested.yaml").write_text(
        "- id: nested\n  level: basic\n  question: How deep is the quote?\n  answer: |\n"
        "    Some text first.\n\n" + body + "\n",
        encoding="utf-8",
    )
