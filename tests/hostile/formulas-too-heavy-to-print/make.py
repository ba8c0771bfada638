"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """Forty different formulas nested eight deep (seven groups and a subscript): each
    is allowed, together they would take minutes to draw."""
    formulas = []
    for n in range(40):
        formulas.append("$" + "{" * 7 + f"x_{{{n}}}" + "}" * 7 + "$")
    (root / "source" / "questions" / "heavy.yaml").write_text(
        "- id: heavy\n  level: basic\n  question: How heavy is the answer?\n"
        f"  answer: {' '.join(formulas)}\n  tags: [optimization]\n",
        encoding="utf-8",
    )
