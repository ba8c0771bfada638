"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

from pathlib import Path

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def make(root: Path) -> None:
    """figures/plot.png is a link to a real PNG outside source/."""
    (root / "outside.png").write_bytes(PNG)
    (root / "source" / "figures").mkdir()
    (root / "source" / "figures" / "plot.png").symlink_to("../../outside.png")
