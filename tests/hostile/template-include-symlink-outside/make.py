"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

import os
from pathlib import Path


def make(root: Path) -> None:
    """A template folder link to /etc/passwd, included by the quiz template."""
    os.symlink("/etc/passwd", root / "templates" / "pdf" / "secret.txt")
