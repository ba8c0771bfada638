"""Media files that fields refer to: where a reference may point, what counts as an image,
and how large a file may be."""

from __future__ import annotations

import posixpath
import re
import urllib.parse
from pathlib import Path

MAX_MEDIA_BYTES = 5 * 1024 * 1024
"""An image larger than this is not bundled (E013)."""

_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)


def sniff_image(data: bytes) -> str | None:
    """The image type by its first bytes (png, jpg, gif, webp), or None."""
    for magic, kind in _IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def image_problem(src: str, source_root: Path) -> tuple[str, str]:
    """Why an image reference is unusable as ``(code, message)``, or ``("", "")``.

    ``src`` is the Markdown destination, which is a URL: ``images/sch%C3%A9ma.png`` and
    ``<images/my file.png>`` (percent-encoded by the parser) name the files as written.
    """
    src = urllib.parse.unquote(src)
    if not src.strip():
        return "E013", "image without a path"
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", src) or src.startswith("//"):
        return "E014", f"image '{src}' is a URL; images must be files inside source/"
    if src.startswith("/") or src.startswith("\\"):
        return "E014", f"image '{src}' is an absolute path; use a path relative to source/"
    normal = posixpath.normpath(src.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        return "E014", f"image '{src}' leaves source/"
    if "\0" in normal:  # `%00`: no file has that name, and the OS refuses to look
        return "E013", f"image {src!r} contains a NUL character"
    path = source_root / normal
    try:
        resolved = path.resolve(strict=False)
        root = source_root.resolve()
    except (OSError, RuntimeError):
        return "E013", f"image '{src}' cannot be resolved"
    if resolved != root and root not in resolved.parents:
        return "E014", f"image '{src}' leads outside source/ through a link"
    if not resolved.is_file():
        return "E013", f"image '{src}' not found in source/"
    from exporter.text.media import MAX_MEDIA_BYTES, sniff_image

    try:
        size = resolved.stat().st_size
        with resolved.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        return "E013", f"image '{src}' cannot be read: {exc.strerror or exc}"
    if size > MAX_MEDIA_BYTES:
        return "E013", f"image '{src}' is {size:,} bytes; the limit is {MAX_MEDIA_BYTES:,}"
    if sniff_image(head) is None:
        return "E013", f"'{src}' is not a PNG, JPEG, GIF or WebP image"
    return "", ""
