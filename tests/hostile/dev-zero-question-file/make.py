"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

import os
from pathlib import Path


def make(root: Path) -> None:
    """A question file linked to /dev/zero: its size is 0 and it never ends."""
    os.symlink("/dev/zero", root / "source" / "questions" / "zero.yaml")
