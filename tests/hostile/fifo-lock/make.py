"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

import os
from pathlib import Path


def make(root: Path) -> None:
    """The lock file is a FIFO."""
    os.mkfifo(root / "source" / "deck.lock")
