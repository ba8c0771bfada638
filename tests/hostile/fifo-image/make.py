"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

import os
from pathlib import Path


def make(root: Path) -> None:
    """A FIFO named like an image, referenced by an answer, and a second one unreferenced."""
    (root / "source" / "figures").mkdir()
    os.mkfifo(root / "source" / "figures" / "plot.png")
    os.mkfifo(root / "source" / "figures" / "unused.png")
