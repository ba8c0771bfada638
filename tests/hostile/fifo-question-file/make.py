"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

import os
from pathlib import Path


def make(root: Path) -> None:
    """A FIFO named like a question file: reading it would block for ever."""
    os.mkfifo(root / "source" / "questions" / "pipe.yaml")
