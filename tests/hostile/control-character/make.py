"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A NUL and a BEL character inside an answer (YAML forbids control characters)."""
    path = root / "source" / "questions" / "basic.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("step size", "step\x00size\x07"), encoding="utf-8")
