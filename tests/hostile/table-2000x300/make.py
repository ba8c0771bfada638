"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """An answer holding a 2,000-row, 300-column table (1.2 MB)."""
    cols = 300
    head = "|" + "|".join(f"h{i}" for i in range(cols)) + "|"
    rule = "|" + "|".join("-" for _ in range(cols)) + "|"
    rows = ["|" + "|".join("x" for _ in range(cols)) + "|" for _ in range(2000)]
    body = "\n".join("    " + line for line in [head, rule, *rows])
    (root / "source" / "questions" / "table.yaml").write_text(
        "- id: table\n  level: basic\n  question: How big is the table?\n  answer: |\n"
        + body
        + "\n",
        encoding="utf-8",
    )
