"""Generated part of this case (see tests/hostile/README.md)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def png(width: int, height: int, colour_type: int) -> bytes:
    """A PNG header of the given size with a tiny (truncated) image stream: Pillow reads
    its size without decoding anything."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def gif(width: int, height: int) -> bytes:
    """A GIF header claiming a huge logical screen."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02\x02\x4c\x01\x00"
    return b"GIF89a" + screen + frame + b"\x3b"


def make(root: Path) -> None:
    """A 30,000 x 30,000 PNG, a 12,000 x 12,000 RGBA PNG and a 20,000 x 20,000 GIF."""
    figures = root / "source" / "figures"
    figures.mkdir()
    (figures / "huge.png").write_bytes(png(30_000, 30_000, 2))
    (figures / "rgba.png").write_bytes(png(12_000, 12_000, 6))
    (figures / "huge.gif").write_bytes(gif(20_000, 20_000))
