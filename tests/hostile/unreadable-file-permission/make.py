"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path

REQUIRES_NON_ROOT = "root reads files whatever their mode; run the suite as a normal user"


def make(root: Path) -> None:
    """A question file without read permission."""
    path = root / "source" / "questions" / "secret.yaml"
    path.write_text("- id: secret\n", encoding="utf-8")
    path.chmod(0)
