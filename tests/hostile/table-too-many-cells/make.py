"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A 110-row, 50-column table: 5,550 cells in 12 KB (under the field limit)."""
    cols = 50
    head = "|" + "|".join("h" for _ in range(cols)) + "|"
    rule = "|" + "|".join("-" for _ in range(cols)) + "|"
    rows = ["|" + "|".join("x" for _ in range(cols)) + "|" for _ in range(110)]
    body = "\n".join("    " + line for line in [head, rule, *rows])
    (root / "source" / "questions" / "table.yaml").write_text(
        "- id: table\n  level: basic\n  question: How big is the table?\n  answer: |\n"
        + body
        + "\n",
        encoding="utf-8",
    )
