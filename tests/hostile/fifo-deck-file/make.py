"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

import os
from pathlib import Path


def make(root: Path) -> None:
    """deck.yaml is a FIFO."""
    (root / "source" / "deck.yaml").unlink()
    os.mkfifo(root / "source" / "deck.yaml")
