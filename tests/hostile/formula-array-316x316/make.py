"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A 316 x 316 array (drawing a 100 x 100 one alone took 69 s), and a 30 x 30 one."""

    def array(n: int) -> str:
        rows = [" & ".join("x" for _ in range(n)) for _ in range(n)]
        return "\\begin{array}{" + "c" * n + "}" + " \\\\ ".join(rows) + "\\end{array}"

    (root / "source" / "questions" / "array.yaml").write_text(
        "- id: array\n  level: basic\n  question: How big is the matrix?\n"
        f"  answer: ${array(316)}$\n"
        "- id: smaller-array\n  level: basic\n  question: How big is the other matrix?\n"
        f"  answer: ${array(30)}$\n",
        encoding="utf-8",
    )
