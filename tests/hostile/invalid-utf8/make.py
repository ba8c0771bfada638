"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path


def make(root: Path) -> None:
    """A Latin-1 byte (0xe9) in an otherwise valid answer."""
    path = root / "source" / "questions" / "basic.yaml"
    text = path.read_bytes()
    path.write_bytes(text.replace(b"during training", b"durant l'entra\xeenement"))
