"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A 50 MB question file: refused by its size before a byte is read."""
    path = root / "source" / "questions" / "huge.yaml"
    line = b"- id: x\n  level: basic\n  question: q\n  answer: " + b"a" * 60 + b"\n"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
        handle.write(line)
